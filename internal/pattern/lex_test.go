package pattern

import "testing"

// Token tables for the lexical layer (lex.go), in the style of text/template's lexTests: each
// input is read from position 0 by one routine; the test checks the token, where the reader
// stopped, and the error.

func TestLexQuoted(t *testing.T) {
	tests := []struct {
		in, want string
		end      int
		err      string
	}{
		{`"abc" x`, "abc", 5, ""},
		{`""`, "", 2, ""},
		{`"a \"b\" c"`, `a "b" c`, 11, ""},
		{`"back\\slash"`, `back\slash`, 13, ""},
		{`"keep \n and \*"`, `keep \n and \*`, 16, ""},
		{`"unterminated`, "", 0, "Invalid metric filter pattern"},
		{`"ends in escape\"`, "", 0, "Invalid metric filter pattern"},
	}
	for _, tt := range tests {
		p := &parser{src: tt.in}
		got, err := p.quoted()
		if tt.err != "" {
			if err == nil || err.ErrorMessage() != tt.err {
				t.Errorf("quoted(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || p.pos != tt.end {
			t.Errorf("quoted(%q) = %q at %d, %v; want %q at %d", tt.in, got, p.pos, err, tt.want, tt.end)
		}
	}
}

func TestLexOperator(t *testing.T) {
	tests := []struct {
		in   string
		want op
		ok   bool
		end  int
		err  bool
	}{
		{"= 1", opEq, true, 1, false},
		{"!=1", opNe, true, 2, false},
		{"<=", opLe, true, 2, false},
		{">=", opGe, true, 2, false},
		{"<", opLt, true, 1, false},
		{">", opGt, true, 1, false},
		{"== 1", 0, false, 0, true},
		{"IS NULL", 0, false, 0, false},
		{"! =", 0, false, 0, false},
	}
	for _, tt := range tests {
		p := &parser{src: tt.in}
		got, ok, err := p.operator()
		if (err != nil) != tt.err || ok != tt.ok || (ok && got != tt.want) || p.pos != tt.end {
			t.Errorf("operator(%q) = %v %v %v at %d; want %v %v err=%v at %d", tt.in, got, ok, err, p.pos, tt.want, tt.ok, tt.err, tt.end)
		}
	}
}

func TestLexSelector(t *testing.T) {
	tests := []struct {
		in, want string // want: canonical selector, or the AWS error message
		end      int
	}{
		{"$.a.b = 1", "$.a.b", 5},
		{"$.a[0].b[*] ", "$.a[0].b[*]", 11},
		{"$.['cluster.name']=1", "$.['cluster.name']", 18},
		{"$.* != x", "$.*", 3},
		{"$.detail-type = x", "$.detail-type", 13},
		{"$.a_1.B2 IS NULL", "$.a_1.B2", 8},
		{"$[0]", "$[0]", 4},
		{`$."x" = 1`, `Invalid character(s) in term '$."'`, 0},
		{`$["x"] = 1`, `Invalid character(s) in term '$["'`, 0},
		{"$.a, ", `Invalid character(s) in term ','`, 0},
		{"$.a. = 1", "Invalid metric filter pattern", 0},
		{"$ = 1", "Invalid metric filter pattern", 0},
		{"$.a[1 = 1", "Invalid metric filter pattern", 0},
		{"$.a[*].*", "Invalid metric filter pattern", 0},
	}
	for _, tt := range tests {
		p := &parser{src: tt.in}
		sel, err := p.selector()
		if err != nil {
			if err.ErrorMessage() != tt.want {
				t.Errorf("selector(%q) error %q, want %q", tt.in, err.ErrorMessage(), tt.want)
			}
			continue
		}
		if sel.String() != tt.want || p.pos != tt.end {
			t.Errorf("selector(%q) = %q at %d, want %q at %d", tt.in, sel.String(), p.pos, tt.want, tt.end)
		}
	}
}

func TestLexValue(t *testing.T) {
	tests := []struct {
		in   string
		o    op
		kind valKind
		text string // the value's text, or the AWS error message
		end  int
	}{
		{`"a b" }`, opEq, valQuoted, "a b", 5},
		{`abc)`, opEq, valBare, "abc", 3},
		{`kms.amazonaws.com }`, opEq, valBare, "kms.amazonaws.com", 17},
		{`123.123.* }`, opEq, valBare, "123.123.*", 9},
		{`-1.5e+3 }`, opLt, valNumber, "-1.5e+3", 7},
		{`+1000}`, opGe, valNumber, "+1000", 5},
		{`%^a[0-9]{2}$% `, opEq, valRegex, "^a[0-9]{2}$", 13},
		{`1*`, opEq, valBare, "1*", 2},
		{`12.`, opEq, valBare, "12.", 3},
		{`"x" ,`, opEq, valQuoted, "x", 3},
		{`'x'`, opEq, 0, "Invalid character(s) in term '''", 0},
		{`a@b`, opEq, 0, "Invalid character(s) in term '@'", 0},
		{`"123"`, opGt, 0, `Invalid character(s) in term '"123"'`, 0},
		{`abc`, opLe, 0, `Invalid character(s) in term 'abc'`, 0},
		{`}`, opEq, 0, "Invalid metric filter pattern", 0},
		{``, opEq, 0, "Invalid metric filter pattern", 0},
	}
	for _, tt := range tests {
		p := &parser{src: tt.in}
		v, err := p.value(tt.o)
		if err != nil {
			if err.ErrorMessage() != tt.text {
				t.Errorf("value(%q) error %q, want %q", tt.in, err.ErrorMessage(), tt.text)
			}
			continue
		}
		if v.kind != tt.kind || v.text != tt.text || p.pos != tt.end {
			t.Errorf("value(%q) = kind %d %q at %d; want kind %d %q at %d", tt.in, v.kind, v.text, p.pos, tt.kind, tt.text, tt.end)
		}
	}
}

func TestLexRegexBody(t *testing.T) {
	p := &parser{src: `%a b% rest`}
	body, pos, err := p.regexBody()
	if err != nil || body != "a b" || pos != 1 || p.pos != 5 {
		t.Errorf("regexBody = %q %d %v, end %d", body, pos, err, p.pos)
	}
	p = &parser{src: `%open`}
	if _, _, err := p.regexBody(); err == nil {
		t.Error("unterminated regex accepted")
	}
}

func TestParseNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "+12": true, "1.5": true, "1e3": true, "1E-3": true, "10e+3": true, "55.5": true,
		"": false, "-": false, "1.": false, ".5": false, "1e": false, "1e+": false, "0x10": false, "1_000": false,
		"1.2.3": false, "abc": false, "Inf": false, "NaN": false,
	} {
		if _, ok := parseNumber(s); ok != want {
			t.Errorf("parseNumber(%q) ok = %v, want %v", s, ok, want)
		}
	}
}
