package awsapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// keepInput is what the keeper service's operation holds on to after answering.
type keepInput struct {
	Name  string            `json:"Name"`
	Blob  []byte            `json:"Blob"`
	Items []string          `json:"Items"`
	Attrs map[string]string `json:"Attrs,omitempty"`
}

// keeper keeps every input it is given.
type keeper struct {
	mu   sync.Mutex
	kept map[string]keepInput // by Name's first 16 bytes
}

func (k *keeper) service() *awsapi.Service {
	// A service of its own, speaking every protocol, so that no real service's shapes are needed.
	return &awsapi.Service{
		SigningName: "keeper", TargetPrefixes: []string{"Keeper_20261206"}, JSONVersion: "1.0", CBORService: "Keeper",
		QueryVersion: "2026-12-06", XMLNamespace: "https://keeper.example/doc/2026-12-06/",
		Operations: map[string]awsapi.Operation{
			"Keep": awsapi.Op(func(ctx context.Context, in *keepInput) (*struct{}, error) {
				k.mu.Lock()
				defer k.mu.Unlock()
				k.kept[in.Name[:16]] = *in
				return nil, nil
			}),
		},
	}
}

// TestBodiesAreNotKeptByInputs is the guard of body pooling: the handler reuses a request's body
// buffers once the operation has answered, so an input that referred to its body, rather than
// holding copies, would change under the operation as later requests overwrite the buffers. Each
// protocol's decoder gets bodies of one chunk and of many, in turn and concurrently; every input
// kept must still be what was sent once all have been answered.
func TestBodiesAreNotKeptByInputs(t *testing.T) {
	k := &keeper{kept: map[string]keepInput{}}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:    []*awsapi.Service{k.service()},
		Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:         func() time.Time { return fixedNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: newServer(t, h)}
	rng := rand.New(rand.NewPCG(15, 1))
	text := func(n int) string {
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"\\é"
		var b strings.Builder
		for b.Len() < n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet)-2)])
			if rng.IntN(50) == 0 {
				b.WriteString(`"\é`)
			}
		}
		return b.String()
	}
	type sent struct {
		req rawReq
		in  keepInput
	}
	var all []sent
	for i := range 48 {
		size := []int{40, 700, 5000, 300 << 10}[i%4]
		in := keepInput{Name: fmt.Sprintf("%016d", i) + text(size), Blob: []byte(text(size / 2)), Items: []string{text(size / 4), text(10)}}
		var req rawReq
		switch proto := i / 4 % 3; proto {
		case 0:
			in.Attrs = map[string]string{"k" + text(5): text(size / 8)}
			body, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			req = jsonReq("Keeper_20261206.Keep", "1.0", string(body))
		case 1:
			in.Attrs = map[string]string{"k" + text(5): text(size / 8)}
			req = cborReq("Keep", in, false)
			req.path = "/service/Keeper/operation/Keep"
		case 2:
			form := url.Values{"Action": {"Keep"}, "Version": {"2026-12-06"}, "Name": {in.Name},
				"Blob": {base64.StdEncoding.EncodeToString(in.Blob)}, "Items.member.1": {in.Items[0]}, "Items.member.2": {in.Items[1]}}
			req = formReq("keeper", form.Encode())
		}
		req.service = "keeper"
		all = append(all, sent{req, in})
	}
	// In turn, then the same again concurrently: each request's buffers are reused by the next.
	for _, s := range all {
		if r := e.do(t, s.req); r.status != 200 {
			t.Fatalf("%s: %d %s", s.in.Name[:16], r.status, r.body)
		}
	}
	check := func() {
		t.Helper()
		k.mu.Lock()
		defer k.mu.Unlock()
		for _, s := range all {
			got, ok := k.kept[s.in.Name[:16]]
			if !ok {
				t.Fatalf("%s was not kept", s.in.Name[:16])
			}
			if got.Name != s.in.Name || !bytes.Equal(got.Blob, s.in.Blob) || fmt.Sprint(got.Items) != fmt.Sprint(s.in.Items) || fmt.Sprint(got.Attrs) != fmt.Sprint(s.in.Attrs) {
				t.Errorf("%s changed after it was answered", s.in.Name[:16])
			}
		}
	}
	check()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Go(func() {
			if r := e.do(t, s.req); r.status != 200 {
				t.Errorf("%s: %d %s", s.in.Name[:16], r.status, r.body)
			}
		})
	}
	wg.Wait()
	check()
}
