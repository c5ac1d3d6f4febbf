package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// The NOTIFY channels are named after the schema, and a schema name may be as long as PostgreSQL
// allows (63 bytes): LISTEN and pg_notify must still agree on the channel
// (pg_notify refuses a name over 63 bytes, which would fail every alarm write, whose notification
// is part of its transaction), and a sample announced is heard.
func TestChannelsOfAnyLegalSchemaName(t *testing.T) {
	for _, schema := range []string{
		"tw_" + strings.Repeat("s", 60),
	} {
		t.Run(schema[:10], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			base := testSchema(t) // skips without a server
			admin, err := pgx.Connect(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(ctx)
			id := pgx.Identifier{schema}.Sanitize()
			if _, err := admin.Exec(ctx, `CREATE SCHEMA `+id); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				c, err := pgx.Connect(context.Background(), base)
				if err == nil {
					c.Exec(context.Background(), `DROP SCHEMA `+id+` CASCADE`)
					c.Close(context.Background())
				}
			})
			u, _ := url.Parse(base)
			q := u.Query()
			q.Set("search_path", id)
			u.RawQuery = q.Encode()
			listening := make(chan string, 4)
			db, err := Open(ctx, u.String(), Options{OnListening: func(ch string) { listening <- ch }})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.schema != schema {
				t.Fatalf("current schema %q, want %q", db.schema, schema)
			}
			sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
			if err := db.Apply(ctx, alarm.Change{Put: []*alarm.Record{{Scope: sc, Name: "x", Type: alarm.TypeMetric}}}); err != nil {
				t.Fatalf("alarm write: %v", err)
			}
			heard := make(chan struct{}, 16)
			lctx, stop := context.WithCancel(ctx)
			defer stop()
			go db.ListenSamples(lctx, func(metrics.Scope, []metrics.Metric) { heard <- struct{}{} })
			<-listening
			s := metrics.Sample{AccountID: sc.AccountID, Region: sc.Region, Namespace: "N", MetricName: "M", Timestamp: time.Now(), Value: 1}
			if err := db.NotifySamples(ctx, []metrics.Sample{s}); err != nil {
				t.Fatalf("notify: %v", err)
			}
			select {
			case <-heard:
			case <-time.After(5 * time.Second):
				t.Fatal("the announced sample was not heard")
			}
		})
	}
}
