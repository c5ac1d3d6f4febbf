package sns

import "testing"

func TestFilterPolicyAttributes(t *testing.T) {
	attrs := map[string]MessageAttribute{
		"store":  {DataType: "String", StringValue: "example_corp"},
		"price":  {DataType: "Number", StringValue: "210.75"},
		"colors": {DataType: "String.Array", StringValue: `["red","green"]`},
		"blob":   {DataType: "Binary", BinaryValue: []byte("x")},
	}
	for _, c := range []struct {
		policy string
		match  bool
	}{
		{`{"store":["example_corp"]}`, true},
		{`{"store":["other"]}`, false},
		{`{"store":["Example_Corp"]}`, false},
		{`{"store":[{"equals-ignore-case":"EXAMPLE_CORP"}]}`, true},
		{`{"store":[{"prefix":"exa"}]}`, true},
		{`{"store":[{"suffix":"corp"}]}`, true},
		{`{"store":[{"anything-but":"example_corp"}]}`, false},
		{`{"store":[{"anything-but":["a","b"]}]}`, true},
		{`{"store":[{"anything-but":{"prefix":"exa"}}]}`, false},
		{`{"price":[{"numeric":[">",100,"<=",250]}]}`, true},
		{`{"price":[{"numeric":["<",100]}]}`, false},
		{`{"price":[210.75]}`, true},
		{`{"colors":["green"]}`, true},
		{`{"colors":["blue"]}`, false},
		{`{"missing":[{"exists":false}]}`, true},
		{`{"missing":[{"exists":true}]}`, false},
		{`{"store":[{"exists":true}],"price":[{"numeric":[">=",210.75]}]}`, true},
		{`{"store":["example_corp"],"price":[1]}`, false},
		{`{"blob":["x"]}`, false},
		{`{"missing":[{"anything-but":"x"}]}`, false},
	} {
		p, err := ParseFilterPolicy(c.policy)
		if err != nil {
			t.Fatalf("%s: %v", c.policy, err)
		}
		if got := p.MatchAttributes(attrs); got != c.match {
			t.Errorf("%s: %v, want %v", c.policy, got, c.match)
		}
	}
}

func TestFilterPolicyBody(t *testing.T) {
	body := `{"AlarmName":"root","NewStateValue":"ALARM","Trigger":{"MetricName":"RootAccountUsageCount","Period":300},"tags":["a","b"]}`
	for _, c := range []struct {
		policy string
		match  bool
	}{
		{`{"NewStateValue":["ALARM"]}`, true},
		{`{"NewStateValue":["OK"]}`, false},
		{`{"Trigger":{"MetricName":[{"prefix":"Root"}],"Period":[{"numeric":[">=",60]}]}}`, true},
		{`{"Trigger":{"MetricName":["Other"]}}`, false},
		{`{"tags":["b"]}`, true},
		{`{"Nope":{"x":["y"]}}`, false},
	} {
		p, err := ParseFilterPolicy(c.policy)
		if err != nil {
			t.Fatalf("%s: %v", c.policy, err)
		}
		if got := p.MatchBody(body); got != c.match {
			t.Errorf("%s: %v, want %v", c.policy, got, c.match)
		}
	}
	p, _ := ParseFilterPolicy(`{"a":["b"]}`)
	if p.MatchBody("not json") {
		t.Error("a non-JSON body matched")
	}
}

func TestFilterPolicyInvalid(t *testing.T) {
	for _, s := range []string{`{`, `[]`, `{"a":"b"}`, `{"a":[]}`, `{"a":[{"prefix":1}]}`, `{"a":[{"numeric":["~",1]}]}`,
		`{"a":[{"numeric":[">"]}]}`, `{"a":[{"bogus":1}]}`, `{"a":[{"prefix":"x","suffix":"y"}]}`, `{"$or":[]}`, `{"a":[[1]]}`, `{} {}`} {
		if _, err := ParseFilterPolicy(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

func FuzzFilterPolicy(f *testing.F) {
	for _, s := range []string{`{"a":["b"]}`, `{"a":[{"numeric":[">",1,"<",5]}]}`, `{"a":{"b":[{"prefix":"x"}]}}`, `{"a":[{"anything-but":{"prefix":"x"}}]}`} {
		f.Add(s, `{"a":"b","n":3}`)
	}
	f.Fuzz(func(t *testing.T, policy, body string) {
		p, err := ParseFilterPolicy(policy)
		if err != nil {
			return
		}
		p.MatchBody(body)
		p.MatchAttributes(map[string]MessageAttribute{"a": {DataType: "String", StringValue: body}, "n": {DataType: "Number", StringValue: body}})
	})
}
