package pattern

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// regex is a validated %…% regular expression, compiled to RE2 (linear time, so AWS's
// "evaluation time exceeded" error never applies).
type regex struct {
	src string
	re  *regexp.Regexp
}

// maxRegexProg bounds the size of a compiled regular expression. RE2 runs in time proportional
// to the event's length times the program's size, so a pattern such as %.{1000}x% would take
// seconds on a 256 KB event. AWS rejects regexes that evaluate too slowly at PutMetricFilter
// with "Regular expression evaluation time exceeded allowed limit" (§6, aws-cdk#36901); we
// apply the same message to programs over this size, which no realistic pattern reaches (the
// pattern of aws-cdk#36901 has 49 instructions).
const maxRegexProg = 1000

// progSize returns the number of instructions of the compiled form of a valid Go regexp.
func progSize(src string) int {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

// maxRegexes is AWS's quota of regular expressions in one filter pattern (§6, §8).
const maxRegexes = 2

// regexAllowed reports whether c may appear in a regex body. The list is DOC-REGEX's (2025
// edition, which includes ':'), plus space (§6: the doc's own examples use it).
func regexAllowed(c byte) bool {
	if isWordByte(c) {
		return true
	}
	switch c {
	case ':', '#', '=', '@', '/', ';', ',', '-', ' ',
		'^', '$', '?', '[', ']', '{', '}', '|', '\\', '*', '+', '.':
		return true
	}
	return false
}

// compileRegex validates body (the text between the % signs, starting at byte pos of the
// pattern) against AWS's rules and translates it to Go syntax.
func compileRegex(body string, pos int) (*regex, *Error) {
	if body == "" {
		return nil, syntaxErr(pos, "empty regular expression")
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !regexAllowed(c) {
			r := runeAt(body, i)
			return nil, charErr(pos+i, r, "character not allowed in a regular expression")
		}
		switch c {
		case '\\':
			if i+1 >= len(body) {
				return nil, syntaxErr(pos+i, "trailing backslash in regular expression")
			}
			n := body[i+1]
			switch {
			case strings.IndexByte("dDsSwW", n) >= 0:
				b.WriteByte('\\')
				b.WriteByte(n)
				i++
			case n == 'x':
				if i+3 >= len(body) || !isHex(body[i+2]) || !isHex(body[i+3]) || hex4([]byte(body[i+2:i+4])) > 0x7f {
					return nil, syntaxErr(pos+i, `\x must be followed by two hexadecimal digits of an ASCII character`)
				}
				b.WriteString(body[i : i+4])
				i += 3
			case !isWordByte(n) && regexAllowed(n):
				// An escaped symbol stands for itself.
				b.WriteByte('\\')
				b.WriteByte(n)
				i++
			default:
				return nil, syntaxErr(pos+i, "unsupported escape \\%s in regular expression", runeAt(body, i+1))
			}
		case '{':
			// {,n} means {0,n} (DOC-REGEX: m or n may be omitted); RE2 would read it literally.
			if i+1 < len(body) && body[i+1] == ',' {
				b.WriteString("{0")
			} else {
				b.WriteByte('{')
			}
		default:
			b.WriteByte(c)
		}
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, syntaxErr(pos, "invalid regular expression: %v", err)
	}
	if n := progSize(b.String()); n > maxRegexProg {
		return nil, &Error{
			Pos:    pos,
			Detail: fmt.Sprintf("the regular expression compiles to %d instructions, more than %d", n, maxRegexProg),
			kind:   kindOther,
			msg:    "Regular expression evaluation time exceeded allowed limit",
		}
	}
	return &regex{src: body, re: re}, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// runeAt returns the (possibly multi-byte) character starting at byte i of s.
func runeAt(s string, i int) string {
	j := i + 1
	for j < len(s) && s[j]&0xC0 == 0x80 {
		j++
	}
	return s[i:j]
}
