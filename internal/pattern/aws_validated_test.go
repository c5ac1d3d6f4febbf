package pattern

import (
	"errors"
	"testing"
)

// The vectors in this file were asserted against the real TestMetricFilter API by
// cfchou/metric_filter_parser's e2e tests (boto3 against AWS, 2019; reference §0 "CFCHOU").
// Patterns the author commented out as "aws bug?" are the ones AWS answered against ordinary
// glob semantics; they are included with AWS's answer.

// cfchouSimple is e2e/test_simple.py's event.
const cfchouSimple = `
{
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": [
        "value",
        "another value"
    ],
    "objectList": [
       {
         "name": "a",
         "id": 1
       },
       {
         "name": "b",
         "id": 2
       }
    ],
    "SomeObject": null,
    "someInt": 123, 
    "someFloat": 12.34, 
    "ThisFlag": true
}
    `

// cfchouStrings is e2e/test_strings.py's event.
const cfchouStrings = `
{
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "someString": "111.111.111.111",
    "emptyString": "",
    "someInt": 123,
    "someFloat": 12.34,
    "someFloat2": 12.0,
    "someEscaped": "error \\\"message\\\"",
    "someObject": {
    },
    "someArray": [],
    "someNull": null
}
    `

// cfchouCompound is e2e/test_compound.py's event.
const cfchouCompound = `
{
    "user": {
        "id": 1, 
        "email": "John.Stiles@example.com"
    },
    "users": [
        {
         "id": 2,
         "email": "John.Doe@example.com"
        },
        {
         "id": 3,
         "email": "Jane.Doe@example.com"
        }
    ],
    "actions": [
        "GET",
        "PUT",
        "DELETE"
    ],
    "coordinates": [
        [0, 1, 2],
        [4, 5, 6],
        [7, 8, 9]
    ]
}
    `

func TestAWSValidatedCFCHOU(t *testing.T) {
	type vec struct {
		event   string
		want    bool
		pattern []string
	}
	vecs := []vec{
		{cfchouSimple, true, []string{
			`{ $.someInt = 123 }`, `{ $.someInt != 111 }`, `{ $.someInt > 1 }`, `{ $.someInt >= 1 }`,
			`{ $.someInt < 1000 }`, `{ $.someInt <= 1000 }`, `{ $.someFloat = 12.34 }`, `{ $.someFloat != 11.1 }`,
			`{ $.someFloat > 1.0 }`, `{ $.someFloat   >= 1.0 }`, `{ $.someFloat <       100.0 }`,
			`{ $.someFloat      <=     100.0 }`, `{ $.arrayKey[0] = "value" }`, `{ $.objectList[1].id    = 2 }`,
			`{ $.SomeObject IS NULL }`, `{ $.SomeOtherObject NOT EXISTS         }`,
		}},
		{cfchouSimple, false, []string{`{ $.ThisFlag[0] = "value" }`, `{ $.objectList[1].number = 2 }`}},
		// test_equality_quoted
		{cfchouStrings, true, []string{
			`{ $.someString = "111.111.111.111" }`, `{ $.someString != 111*111 }`, `{ $.someString = "*" }`,
			`{ $.emptyString = "*" }`, `{ $.someString = "*.111.111.111" }`, `{ $.someString = "111*" }`,
			`{ $.someString != "222" }`, `{ $.someString != "222*" }`, `{ $.someString != "*222" }`,
			`{ $.someInt = "123" }`, `{ $.someInt != "123.0" }`, `{ $.someInt = "*" }`,
			`{ $.someInt = "1*" }`, `{ $.someInt = "12*" }`, `{ $.someInt = "123*" }`, `{ $.someInt = "*123" }`,
			`{ $.someInt = "*23" }`, `{ $.someInt = "*3" }`, `{ $.someInt != "3*" }`, `{ $.someInt != "32*" }`,
			`{ $.someInt != "321*" }`, `{ $.someInt != "*321" }`, `{ $.someInt != "*32" }`, `{ $.someInt != "*1" }`,
			`{ $.someFloat = "12.34" }`, `{ $.someFloat = "*"}`, `{ $.someFloat2 != "12" }`,
			`{ $.someFloat = "1*" }`, `{ $.someFloat = "12*" }`, `{ $.someFloat = "12.*" }`, `{ $.someFloat = "12.3*" }`,
			`{ $.someFloat = "12.34*"}`, `{ $.someFloat = "*12.34"}`, `{ $.someFloat = "*2.34"}`, `{ $.someFloat = "*.34" }`,
			`{ $.someFloat = "*34" }`, `{ $.someFloat = "*4" }`, `{ $.someFloat != "43.21" }`, `{ $.someFloat != "4*1" }`,
			`{ $.someFloat != "4*" }`, `{ $.someFloat != "43*" }`, `{ $.someFloat != "43.*" }`, `{ $.someFloat != "43.2*" }`,
			`{ $.someFloat != "43.21*"}`, `{ $.someFloat != "*43.21"}`, `{ $.someFloat != "*3.21" }`,
			`{ $.someFloat != "*.21" }`, `{ $.someFloat != "*21" }`, `{ $.someFloat != "*1" }`,
		}},
		// test_equality_unquoted
		{cfchouStrings, true, []string{
			`{ $.someString = 111.111.111.111 }`, `{ $.someString != 111*111 }`, `{ $.someString = * }`,
			`{ $.someString = *.111.111.111 }`, `{ $.someString = 111* }`, `{ $.someString != 222 }`,
			`{ $.someString != 222* }`, `{ $.someString != *222 }`, `{ $.someInt = 123 }`, `{ $.someInt = 123.0 }`,
			`{ $.someInt = * }`, `{ $.someInt = 1* }`, `{ $.someInt = 12* }`, `{ $.someInt = 123* }`,
			`{ $.someInt = *123 }`, `{ $.someInt = *23 }`, `{ $.someInt = *3 }`, `{ $.someInt != 3* }`,
			`{ $.someInt != 32* }`, `{ $.someInt != 321* }`, `{ $.someInt != *321 }`, `{ $.someInt != *32 }`,
			`{ $.someInt != *1 }`, `{ $.someFloat = 12.34 }`, `{ $.someFloat = *}`, `{ $.someFloat2 = 12 }`,
			`{ $.someFloat = 1* }`, `{ $.someFloat = 12* }`, `{ $.someFloat = 12.* }`, `{ $.someFloat = 12.3* }`,
			`{ $.someFloat = 12.34*}`, `{ $.someFloat = *12.34}`, `{ $.someFloat = *2.34}`, `{ $.someFloat = *.34 }`,
			`{ $.someFloat = *34 }`, `{ $.someFloat = *4 }`, `{ $.someFloat != 43.21 }`, `{ $.someFloat != 4* }`,
			`{ $.someFloat != 43* }`, `{ $.someFloat != 43.* }`, `{ $.someFloat != 43.2* }`, `{ $.someFloat != 43.21*}`,
			`{ $.someFloat != *43.21}`, `{ $.someFloat != *3.21 }`, `{ $.someFloat != *.21 }`, `{ $.someFloat != *21 }`,
			`{ $.someFloat != *1 }`,
		}},
		// test_numeric_unquoted_matched
		{cfchouStrings, true, []string{`{ $.someString != 111 }`}},
		// The "aws bug?" patterns: AWS did not match them.
		{cfchouStrings, false, []string{
			`{ $.someString = "*111.111.111" }`, `{ $.someString = *111.111.111 }`,
			`{ $.someInt != "1*3" }`, `{ $.someInt != 1*3 }`, `{ $.someFloat != "1*4" }`, `{ $.someFloat != 1*4 }`,
		}},
		// test_unmatched, and the author's commented observations.
		{cfchouStrings, false, []string{
			`{ $.someString > 123 }`, `{ $.someString >= 123 }`, `{ $.someString < 123 }`, `{ $.someString <= 123 }`,
			`{ $.someString = 123 }`, `{ $.someString = "123" }`,
			`{ $.someObject = 123 }`, `{ $.someObject != 123 }`, `{ $.someObject > 123 }`, `{ $.someObject >= 123 }`,
			`{ $.someObject < 123 }`, `{ $.someObject <= 123 }`, `{ $.someObject = "123" }`, `{ $.someObject != "123" }`,
			`{ $.someObject = "non-number-like" }`, `{ $.someObject != "non-number-like" }`,
			`{ $.eventType >= 123 }`, `{ $.someArray != "someString" }`, `{ $.someArray = "someString" }`,
			`{ $.someObject != "someString" }`, `{ $.someObject = "someString" }`,
			`{ $.someInt = "123.00" }`, `{ $.someInt != 123 }`, `{ $.someInt != "123" }`,
		}},
		{cfchouCompound, true, []string{
			`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`,
			`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`,
		}},
		{cfchouCompound, false, []string{
			`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`,
			`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`,
		}},
	}
	for _, v := range vecs {
		for _, src := range v.pattern {
			p, err := Compile(src)
			if err != nil {
				t.Errorf("Compile(%q): %v", src, err)
				continue
			}
			if got := p.Match([]byte(v.event)); got != v.want {
				t.Errorf("%s: got %v, AWS %v", src, got, v.want)
			}
		}
	}
	// test_invalid: AWS answered InvalidParameterException; the comments record
	// "Invalid character(s) in term '\"someString\"'" for a quoted operand.
	for _, src := range []string{
		`{ $.someString > unquoted_string }`, `{ $.someString >= unquoted_string }`, `{ $.someString < unquoted_string }`,
		`{ $.someString <= unquoted_string }`, `{ $.someString > "quoted_string" }`, `{ $.someString >= "quoted_string" }`,
		`{ $.someString < "quoted_string" }`, `{ $.someString <= "quoted_string" }`, `{ $.someString > "123" }`,
		`{ $.someString >= "123" }`, `{ $.someString < "123" }`, `{ $.someString <= "123" }`,
		` {$.ThisFlag IS TRUE} `,
	} {
		_, err := Compile(src)
		var pe *Error
		if !errors.As(err, &pe) || pe.ErrorCode() != "InvalidParameterException" {
			t.Errorf("Compile(%q) = %v, want InvalidParameterException", src, err)
		}
	}
	_, err := Compile(` {$.ThisFlag IS TRUE} `)
	if err.(*Error).ErrorMessage() != "Invalid metric filter pattern" {
		t.Errorf("leading space: %q", err.(*Error).ErrorMessage())
	}
	_, err = Compile(`{ $.someInt >= "someString" }`)
	if err.(*Error).ErrorMessage() != `Invalid character(s) in term '"someString"'` {
		t.Errorf("quoted operand: %q", err.(*Error).ErrorMessage())
	}
}
