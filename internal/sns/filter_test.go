package sns

import (
	"strconv"
	"strings"
	"testing"
)

func TestFilterPolicyAttributes(t *testing.T) {
	attrs := map[string]MessageAttribute{
		"store":  {DataType: "String", StringValue: "example_corp"},
		"price":  {DataType: "Number", StringValue: "210.75"},
		"colors": {DataType: "String.Array", StringValue: `["red","green"]`},
		"blob":   {DataType: "Binary", BinaryValue: []byte("x")},
		"ip":     {DataType: "String", StringValue: "10.0.0.42"},
		"ip6":    {DataType: "String", StringValue: "2001:db8::1"},
	}
	for _, c := range []struct {
		policy string
		match  bool
	}{
		{`{}`, true},
		{`{"store":["example_corp"]}`, true},
		{`{"store":["other"]}`, false},
		{`{"store":["Example_Corp"]}`, false},
		{`{"store":[{"equals-ignore-case":"EXAMPLE_CORP"}]}`, true},
		{`{"store":[{"prefix":"exa"}]}`, true},
		{`{"store":[{"suffix":"corp"}]}`, true},
		{`{"store":[{"wildcard":"ex*_c*p"}]}`, true},
		{`{"store":[{"wildcard":"ex*_x*p"}]}`, false},
		{`{"store":[{"anything-but":"example_corp"}]}`, false},
		{`{"store":[{"anything-but":["a","b"]}]}`, true},
		{`{"store":[{"anything-but":{"prefix":"exa"}}]}`, false},
		{`{"store":[{"anything-but":{"suffix":"xyz"}}]}`, true},
		{`{"store":[{"anything-but":{"equals-ignore-case":"EXAMPLE_CORP"}}]}`, false},
		{`{"store":[{"anything-but":{"equals-ignore-case":["a","B"]}}]}`, true},
		{`{"price":[{"numeric":[">",100,"<=",250]}]}`, true},
		{`{"price":[{"numeric":[">",210.75,"<=",250]}]}`, false},
		{`{"price":[{"numeric":["<",100]}]}`, false},
		{`{"price":[{"numeric":["=",210.75]}]}`, true},
		{`{"price":[{"anything-but":[100,200]}]}`, true},
		{`{"price":[{"anything-but":210.75}]}`, false},
		{`{"price":[210.75]}`, true},
		{`{"colors":["green"]}`, true},
		{`{"colors":["blue"]}`, false},
		// anything-but matches an array holding a value not listed [SNSDG string-value-matching].
		{`{"colors":[{"anything-but":["red"]}]}`, true},
		{`{"missing":[{"exists":false}]}`, true},
		{`{"missing":[{"exists":true}]}`, false},
		{`{"store":[{"exists":true}],"price":[{"numeric":[">=",210.75]}]}`, true},
		{`{"store":["example_corp"],"price":[1]}`, false},
		{`{"blob":["x"]}`, false},
		{`{"missing":[{"anything-but":"x"}]}`, false},
		{`{"ip":[{"cidr":"10.0.0.0/24"}]}`, true},
		{`{"ip":[{"cidr":"10.0.1.0/24"}]}`, false},
		{`{"ip6":[{"cidr":"2001:db8::/32"}]}`, true},
		// $or: one branch must match [SNSDG and-or-logic].
		{`{"store":["example_corp"],"$or":[{"price":[1]},{"colors":["red"]}]}`, true},
		{`{"store":["example_corp"],"$or":[{"price":[1]},{"colors":["blue"]}]}`, false},
		{`{"$or":[{"store":["nope"]},{"$or":[{"price":[2]},{"ip":[{"prefix":"10."}]}]}]}`, true},
	} {
		p, err := ParseFilterPolicy(c.policy, "")
		if err != nil {
			t.Fatalf("%s: %v", c.policy, err)
		}
		if got := p.MatchAttributes(attrs); got != c.match {
			t.Errorf("%s: %v, want %v", c.policy, got, c.match)
		}
	}
}

func TestFilterPolicyBody(t *testing.T) {
	body := `{"empty":[],"flag":true,"sflag":"true","AlarmName":"root","NewStateValue":"ALARM","Trigger":{"MetricName":"RootAccountUsageCount","Period":300,"Dimensions":[{"name":"a","value":"1"},{"name":"b","value":"2"}]},"tags":["a","b"],"n":null}`
	for _, c := range []struct {
		policy string
		match  bool
	}{
		{`{"NewStateValue":["ALARM"]}`, true},
		{`{"NewStateValue":["OK"]}`, false},
		{`{"Trigger":{"MetricName":[{"prefix":"Root"}],"Period":[{"numeric":[">=",60]}]}}`, true},
		{`{"Trigger":{"MetricName":["Other"]}}`, false},
		{`{"Trigger":{"Dimensions":{"name":["b"]}}}`, true},
		{`{"tags":["b"]}`, true},
		{`{"n":[null]}`, true},
		{`{"AlarmName":[null]}`, false},
		{`{"Nope":{"x":["y"]}}`, false},
		{`{"Nope":[{"exists":false}]}`, true},
		{`{"$or":[{"NewStateValue":["OK"]},{"Trigger":{"Period":[300]}}]}`, true},
		// Event Ruler matches leaves: an object or an empty array is not a value, and true is
		// not "true".
		{`{"Trigger":[{"exists":true}]}`, false},
		{`{"Trigger":[{"exists":false}]}`, true},
		{`{"empty":[{"exists":false}]}`, true},
		{`{"flag":[true]}`, true},
		{`{"sflag":[true]}`, false},
		{`{"Trigger":{"Period":["300"]}}`, false},
	} {
		p, err := ParseFilterPolicy(c.policy, ScopeMessageBody)
		if err != nil {
			t.Fatalf("%s: %v", c.policy, err)
		}
		if got := p.MatchBody(body); got != c.match {
			t.Errorf("%s: %v, want %v", c.policy, got, c.match)
		}
	}
	p, _ := ParseFilterPolicy(`{"a":["b"]}`, ScopeMessageBody)
	if p.MatchBody("not json") {
		t.Error("a non-JSON body matched")
	}
}

// at is the location suffix AWS appends to a policy error (Jackson's, source redacted).
func at(col int) string {
	return "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: " + itoa(col) + "]"
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFilterPolicyErrors checks every message, and its location, against the answers AWS
// recorded in localstack's tests/aws/services/sns/test_sns_filter_policy.snapshot.json
// (2024-05; the source part of the location in today's form, test_sns.snapshot.json 2025-10) and
// Event Ruler's JsonRuleCompiler for the forms the recordings do not cover.
func TestFilterPolicyErrors(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"k":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"v` + itoa(i) + `"`)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	for _, c := range []struct {
		policy, scope, want string
	}{
		// test_validate_policy
		{`{"key":[["value"]]}`, "", "FilterPolicy: Match value must be String, number, true, false, or null" + at(10)},
		{`{"key":[{"wrong-operator":true}]}`, "", "FilterPolicy: Unrecognized match type wrong-operator" + at(31)},
		{`{"key":[{"suffix":"value","prefix":"value2"}]}`, "", "FilterPolicy: Only one key allowed in match expression" + at(37)},
		// test_validate_policy_string_operators
		{`{"key":[{"suffix":100}]}`, "", "FilterPolicy: suffix match pattern must be a string" + at(22)},
		{`{"key":[{"suffix":null}]}`, "", "FilterPolicy: suffix match pattern must be a string" + at(23)},
		{`{"key":{"suffix":"value"}}`, "", `FilterPolicy: "suffix" must be an object or an array` + at(19)},
		{`{"key":[{"suffix":[]}]}`, "", "FilterPolicy: suffix match pattern must be a string" + at(20)},
		{`{"key":[{"suffix":["test","test2"]}]}`, "", "FilterPolicy: suffix match pattern must be a string" + at(20)},
		{`{"key":{"suffix":"value","prefix":"value"}}`, "", `FilterPolicy: "suffix" must be an object or an array` + at(19)},
		{`{"key":{"not-an-operator":"value"}}`, "", `FilterPolicy: "not-an-operator" must be an object or an array` + at(28)},
		// test_validate_policy_numeric_operator
		{`{"key":[{"numeric":[]}]}`, "", "FilterPolicy: Invalid member in numeric match: ]" + at(22)},
		{`{"key":[{"numeric":["operator"]}]}`, "", "FilterPolicy: Unrecognized numeric range operator: operator" + at(32)},
		{`{"key":[{"numeric":[1,"<="]}]}`, "", "FilterPolicy: Invalid member in numeric match: 1" + at(22)},
		{`{"key":[{"numeric":["=","000"]}]}`, "", "FilterPolicy: Value of equals must be numeric" + at(26)},
		{`{"key":[{"numeric":[">="]}]}`, "", "FilterPolicy: Value of >= must be numeric" + at(26)},
		{`{"key":[{"numeric":["<",100,">",10]}]}`, "", "FilterPolicy: Too many elements in numeric expression" + at(30)},
		{`{"key":[{"numeric":[">=",1,">",2]}]}`, "", "FilterPolicy: Bad numeric range operator: >" + at(31)},
		{`{"key":[{"numeric":[">",3,"<",1]}]}`, "", "FilterPolicy: Bottom must be less than top" + at(33)},
		{`{"key":[{"numeric":[">",20,"<="]}]}`, "", "FilterPolicy: Value of <= must be numeric" + at(33)},
		{`{"key":[{"numeric":[">",20,30]}]}`, "", "FilterPolicy: Bad value in numeric range: 30" + at(30)},
		{`{"key":[{"numeric":[">",20,"test"]}]}`, "", "FilterPolicy: Bad numeric range operator: test" + at(34)},
		{`{"key":[{"numeric":[">","20","<","30"]}]}`, "", "FilterPolicy: Value of > must be numeric" + at(26)},
		{`{"key":[{"numeric":[">",20,"<","30"]}]}`, "", "FilterPolicy: Value of < must be numeric" + at(33)},
		{`{"key":[{"numeric":[">",20,"<",30,"<",50]}]}`, "", "FilterPolicy: Too many terms in numeric range expression" + at(36)},
		// test_validate_policy_exists_operator
		{`{"key":[{"exists":null}]}`, "", "FilterPolicy: exists match pattern must be either true or false." + at(23)},
		{`{"key":[{"exists":"no"}]}`, "", "FilterPolicy: exists match pattern must be either true or false." + at(20)},
		// test_sub_filter_policy_nested_property(_constraints)
		{`{"key_a":"value_one"}`, ScopeMessageBody, `FilterPolicy: "key_a" must be an object or an array` + at(11)},
		{`{"object":{"key":[{"prefix":"auto-"}]}}`, "", "Filter policy scope MessageAttributes does not support nested filter policy"},
		{`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, "", "FilterPolicy: Filter policy can not have more than 5 keys"},
		{many(151), "", "FilterPolicy: Filter policy is too complex"},
		{`{"a":["1","2","3","4","5","6","7","8","9","10"],"b":["1","2","3","4","5","6","7","8","9","10"],"c":["1","2"]}`, "", "FilterPolicy: Filter policy is too complex"},
		{`{"$or":[` + many(100) + `,` + many(51) + `]}`, "", "FilterPolicy: Filter policy is too complex"},
		// nested keys count once and weigh their depth: 4 values at depth 3 x 3 at depth 2 = 72 is fine, 13 x 3 x 2 x 2 is not.
		{`{"a":{"b":{"c":["1","2","3","4","5","6","7","8","9","10","11","12","13"]}},"d":{"e":["1","2"]}}`, ScopeMessageBody, "FilterPolicy: Filter policy is too complex"},
		// test_validate_set_sub_attributes and test_subscribe_invalid_filter_policy (2025-10)
		{`{invalidjson}`, "", "FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name" + at(2)},
		{`invalid`, "", "FilterPolicy: failed to parse JSON. Unrecognized token 'invalid': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')" + at(8)},
		// Decision: text after the policy is refused (see FilterPolicy).
		{`{"a":["b"]} {}`, "", "FilterPolicy: failed to parse JSON. Unexpected character ('{' (code 123)): expected end-of-input" + at(13)},
		// Event Ruler's other messages (JsonRuleCompiler.java)
		{`[]`, "", "FilterPolicy: Filter is not an object" + at(2)},
		{`{"a":[]}`, "", "FilterPolicy: Empty arrays are not allowed" + at(8)},
		{`{"a":{}}`, ScopeMessageBody, "FilterPolicy: Empty objects are not allowed" + at(8)},
		{`{"$or":[{"a":["1"]}]}`, "", "FilterPolicy: There must have at least 2 Objects in $or relationship." + at(21)},
		{`{"$or":{"a":["1"]}}`, "", "FilterPolicy: It must be an Array followed with $or." + at(9)},
		{`{"$or":[{"a":["1"]},"b"]}`, "", "FilterPolicy: Only JSON object is allowed in array of $or relationship." + at(22)},
		{`{"$or":[{"a":["1"]},{"prefix":["b"]}]}`, "", "FilterPolicy: prefix is Ruler reserved fieldName which cannot be used inside $or." + at(32)},
		{`{"a":[{"cidr":"10.0.0.0"}]}`, "", "FilterPolicy: Malformed CIDR, one '/' required" + at(25)},
		{`{"a":[{"cidr":"10.0.0.0/x"}]}`, "", "FilterPolicy: Malformed CIDR, mask bits must be an integer" + at(27)},
		{`{"a":[{"cidr":"10.0.0.300/8"}]}`, "", "FilterPolicy: Nonstandard IP address: 10.0.0.300" + at(29)},
		{`{"a":[{"cidr":1}]}`, "", "FilterPolicy: prefix match pattern must be a string" + at(16)},
		{`{"a":[{"anything-but":{"wildcard":"x"}}]}`, "", "FilterPolicy: Unsupported anything-but pattern: wildcard" + at(36)},
		{`{"a":[{"anything-but":{"prefix":""}}]}`, "", "FilterPolicy: Null prefix/suffix not allowed" + at(35)},
		{`{"a":[{"anything-but":["x",1]}]}`, "", "FilterPolicy: Inside anything but list, either all values are number or string, mixed type is not supported" + at(30)},
		{`{"a":[{"anything-but":[null]}]}`, "", "FilterPolicy: Inside anything but list, start|null|boolean is not supported." + at(28)},
		{`{"a":[{"anything-but":true}]}`, "", "FilterPolicy: Value of anything-but must be an array or single string/number value." + at(27)},
		{`{"a":[{"numeric":">"}]}`, "", "FilterPolicy: Value of numeric must be an array." + at(19)},
	} {
		_, err := ParseFilterPolicy(c.policy, c.scope)
		if err == nil {
			t.Errorf("%s accepted", c.policy)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.policy, err.Error(), c.want)
		}
	}
}

// TestFilterPolicyLocations: Jackson counts lines, and columns in UTF-16 units.
func TestFilterPolicyLocations(t *testing.T) {
	loc := func(line, col int) string {
		return "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: " + itoa(line) + ", column: " + itoa(col) + "]"
	}
	for policy, want := range map[string]string{
		"{\n\"key\":[{\"suffix\":100}]}":      "FilterPolicy: suffix match pattern must be a string" + loc(2, 21),
		"{\r\n  \"key\":[{\"suffix\":100}]}":  "FilterPolicy: suffix match pattern must be a string" + loc(2, 23),
		`{"ké":[{"suffix":1}]}`:               "FilterPolicy: suffix match pattern must be a string" + loc(1, 19),
		`{"😀":[{"suffix":1}]}`:                "FilterPolicy: suffix match pattern must be a string" + loc(1, 19),
		"{\"a\":[\"x\"],\n\"b\": {\"c\": 1}}": `FilterPolicy: "c" must be an object or an array` + loc(2, 13),
	} {
		_, err := ParseFilterPolicy(policy, ScopeMessageBody)
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", policy, err, want)
		}
	}
}

// TestFilterPolicyLimitsAccepted checks the limits' edges: 5 keys, 150 combinations and the
// documentation's 72-combination nested example are accepted.
func TestFilterPolicyLimitsAccepted(t *testing.T) {
	for _, c := range []struct{ policy, scope string }{
		{`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"]}`, ""},
		{`{"a":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15"],"b":["1","2","3","4","5","6","7","8","9","10"]}`, ""},
		{`{"key_a":{"key_b":{"key_c":["value_one","value_two","value_three","value_four"]}},"key_d":{"key_e":["value_one","value_two","value_three"]}}`, ScopeMessageBody},
		{`{"a":[{"anything-but":{"suffix":"x"}}],"b":[{"anything-but":{"equals-ignore-case":["x","y"]}}]}`, ""},
	} {
		if _, err := ParseFilterPolicy(c.policy, c.scope); err != nil {
			t.Errorf("%s refused: %v", c.policy, err)
		}
	}
}

// FuzzFilterPolicy runs the filter-policy compiler and matcher on arbitrary text: neither may
// panic, and a policy the compiler accepts must compile again to the same decisions (what is
// validated can be matched).
func FuzzFilterPolicy(f *testing.F) {
	for _, s := range []string{`{"a":["b"]}`, `{"a":[{"numeric":[">",1,"<",5]}]}`, `{"a":{"b":[{"prefix":"x"}]}}`,
		`{"a":[{"anything-but":{"prefix":"x"}}]}`, `{"$or":[{"a":["1"]},{"n":[{"cidr":"10.0.0.0/8"}]}]}`, `{"a":[{"wildcard":"*x*"}]}`, `{invalid}`} {
		f.Add(s, `{"a":"b","n":3}`)
	}
	f.Fuzz(func(t *testing.T, policy, body string) {
		for _, scope := range []string{ScopeMessageAttributes, ScopeMessageBody} {
			p, err := ParseFilterPolicy(policy, scope)
			if err != nil {
				if _, ok := err.(PolicyError); !ok {
					t.Fatalf("error of type %T", err)
				}
				continue
			}
			attrs := map[string]MessageAttribute{"a": {DataType: "String", StringValue: body}, "n": {DataType: "Number", StringValue: body}}
			b1, a1 := p.MatchBody(body), p.MatchAttributes(attrs)
			q, err := ParseFilterPolicy(policy, scope)
			if err != nil || q.MatchBody(body) != b1 || q.MatchAttributes(attrs) != a1 {
				t.Fatalf("policy %q is not stable", policy)
			}
		}
	})
}
