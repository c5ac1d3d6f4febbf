package sns

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// FilterPolicy is a compiled subscription filter policy [§3.4, SNSDG-FILTER]. SNS compiles
// policies with Event Ruler (aws/event-ruler's JsonRuleCompiler), so trailwatch compiles them the
// same way, token by token, and accepts exactly what it accepts:
//
//   - exact strings, numbers (matched as numbers and as text), true, false and null;
//   - {"prefix": s}, {"suffix": s}, {"equals-ignore-case": s}, {"wildcard": s}, {"exactly": s};
//   - {"anything-but": v} with v a string, a number, a list of strings or of numbers, or
//     {"prefix": s}, {"suffix": s} or {"equals-ignore-case": s or [s…]};
//   - {"numeric": [op, n]} and ranges [">"|">=", n, "<"|"<=", m];
//   - {"exists": true|false} and {"cidr": "10.0.0.0/24"} (IPv4 and IPv6);
//   - "$or": [{…}, {…}, …] at any level, each branch a policy of its own.
//
// A message is accepted when one branch accepts it: every key of the branch matches, a key
// matching when one of its conditions does. MessageBody policies address nested properties
// with nested objects; MessageAttributes policies may not nest ("Amazon SNS doesn't accept a
// nested filter policy for attribute-based filtering" [SNSDG-FILTER constraints]).
//
// Decisions where AWS's documentation is silent: the wildcard, exactly and anything-but
// suffix/equals-ignore-case forms, which SNS's documentation does not list, are accepted as
// Event Ruler accepts them; the top-level empty object {} is accepted and filters nothing (the
// compiler refuses empty objects below the top level only); a nested MessageAttributes policy
// is refused after compilation, with SNS's own message; and text after the policy's object is
// refused as Jackson's strict parser refuses it ("expected end-of-input"), although a lenient
// ObjectMapper would ignore it, so that what is stored is exactly what is matched.
type FilterPolicy struct {
	// branches are the policy's $or-expanded alternatives, each a list of keyed conditions.
	branches [][]rule
}

// rule is the condition list of one (dotted) key.
type rule struct {
	path  []string
	conds []cond
}

type condKind int

const (
	cExact condKind = iota
	cNumEq
	cNull
	cPrefix
	cSuffix
	cEqualsIgnoreCase
	cWildcard
	cExists
	cAbsent
	cAnythingBut
	cAnythingButNum
	cAnythingButPrefix
	cAnythingButSuffix
	cAnythingButIgnoreCase
	cRange
	cCIDR
)

// cond is one compiled condition.
type cond struct {
	kind condKind
	s    string   // exact text (strings, literals, number text), prefix, suffix, pattern
	n    float64  // numeric equals
	set  []string // anything-but strings
	nums []float64
	// range bounds: lo/hi with openness; unset bounds are infinite.
	lo, hi         float64
	loOpen, hiOpen bool
	prefix         netip.Prefix
	// str reports that an exact condition came from a JSON string (as opposed to a number or literal).
	str bool
}

// PolicyError is why a filter policy is refused, worded as SNS words it after the call's
// prefix ("Invalid parameter: " for SetSubscriptionAttributes, "Invalid parameter: Attributes
// Reason: " for Subscribe). Its text is AWS's own, capitalised and sometimes ending in a full
// stop, so it is kept verbatim rather than in Go's error-string style.
type PolicyError string

// Error implements error, with AWS's text as it is.
func (e PolicyError) Error() string { return string(e) }

// Scopes of a filter policy (FilterPolicyScope).
const (
	ScopeMessageAttributes = "MessageAttributes"
	ScopeMessageBody       = "MessageBody"
)

// Limits SNS applies to a filter policy [SNSDG-FILTER constraints].
const (
	maxPolicyKeys         = 5
	maxPolicyCombinations = 150
	maxPolicyBytes        = 256 * 1024
)

// ParseFilterPolicy compiles a FilterPolicy attribute for the given FilterPolicyScope ("" means
// MessageAttributes). The error is a PolicyError carrying SNS's text after the call's prefix.
func ParseFilterPolicy(s, scope string) (*FilterPolicy, error) {
	if len(s) > maxPolicyBytes {
		return nil, PolicyError("FilterPolicy: Filter policy is too long")
	}
	toks, err := lexJSON(s)
	if err != nil {
		return nil, PolicyError("FilterPolicy: failed to parse JSON. " + err.Error())
	}
	if toks[0].kind == jStartObject && toks[1].kind == jEndObject {
		return &FilterPolicy{}, nil
	}
	c := &compiler{toks: toks}
	branches, err := c.compile()
	if err != nil {
		return nil, PolicyError("FilterPolicy: " + err.Error())
	}
	// SNS's own limits, checked on the compiled policy, without a location [LS-SNS filter
	// snapshot: "Filter policy can not have more than 5 keys", "Filter policy is too complex"].
	if topKeys(toks) > maxPolicyKeys {
		return nil, PolicyError("FilterPolicy: Filter policy can not have more than 5 keys")
	}
	if scope != ScopeMessageBody {
		for _, b := range branches {
			for _, r := range b {
				if len(r.path) > 1 {
					return nil, PolicyError("Filter policy scope MessageAttributes does not support nested filter policy")
				}
			}
		}
	}
	if combinations(toks) > maxPolicyCombinations {
		return nil, PolicyError("FilterPolicy: Filter policy is too complex")
	}
	return &FilterPolicy{branches: branches}, nil
}

// topKeys counts the top-level keys ("$or" included): "For a nested policy, only parent keys
// are counted" [SNSDG-FILTER constraints].
func topKeys(toks []jtok) int {
	n, depth := 0, 0
	for _, t := range toks {
		switch t.kind {
		case jStartObject, jStartArray:
			depth++
		case jEndObject, jEndArray:
			depth--
		case jFieldName:
			if depth == 1 {
				n++
			}
		}
	}
	return n
}

// combinations is SNS's complexity measure: the product of the lengths of the value arrays,
// each weighted by its key's nesting depth, and summed over the branches of an $or (the
// documentation's example: "The first array has four values in a three-level nested key, and the
// second has three values in a two-level nested key. 3 x 4 x 2 x 3 = 72" [SNSDG-FILTER
// constraints]; the $or sum follows localstack's sns/filter.py, validated against AWS).
func combinations(toks []jtok) int {
	i := 0
	var object func(depth, acc int) int
	// skip returns the index after the value starting at j.
	skip := func(j int) int {
		d := 0
		for ; ; j++ {
			switch toks[j].kind {
			case jStartObject, jStartArray:
				d++
			case jEndObject, jEndArray:
				d--
			}
			if d == 0 {
				return j + 1
			}
		}
	}
	object = func(depth, acc int) int {
		i++ // {
		for toks[i].kind == jFieldName {
			name := toks[i].text
			i++
			switch {
			case toks[i].kind == jStartObject:
				acc = object(depth+1, acc)
			case toks[i].kind == jStartArray && name == "$or":
				i++
				sum := 0
				for toks[i].kind == jStartObject {
					sum += object(depth, acc)
					if sum > 1<<20 {
						sum = 1 << 20
					}
				}
				i++ // ]
				acc = sum
			case toks[i].kind == jStartArray:
				n := 0
				j := i + 1
				for toks[j].kind != jEndArray {
					j = skip(j)
					n++
				}
				i = j + 1
				acc = min(acc*n*depth, 1<<20)
			default:
				i = skip(i)
			}
		}
		i++ // }
		return acc
	}
	if toks[0].kind != jStartObject {
		return 0
	}
	return object(1, 1)
}

// compiler walks the tokens as JsonRuleCompiler reads them, so that an error is reported at the
// token, and the position, where Event Ruler reports it.
type compiler struct {
	toks []jtok
	i    int
	// read is set once the current string token's text has been read (getText), which moves
	// Jackson's pointer past its closing quote.
	read bool
}

func (c *compiler) next() jtok {
	if c.i < len(c.toks)-1 {
		c.i++
	}
	c.read = false
	return c.toks[c.i]
}

func (c *compiler) cur() jtok { return c.toks[c.i] }

// text is Jackson's getText(): the token's text; reading a string completes it.
func (c *compiler) text() string {
	t := c.cur()
	if t.kind == jString {
		c.read = true
	}
	return t.tokenText()
}

// barf is JsonRuleCompiler's error: the message and the parser's current location.
func (c *compiler) barf(msg string) error {
	t := c.cur()
	at := t.end
	if t.kind == jString && !c.read {
		at = t.begin
	}
	return fmt.Errorf("%s\n at %s", msg, at)
}

func (c *compiler) compile() ([][]rule, error) {
	c.i = -1
	if c.next().kind != jStartObject {
		return nil, c.barf("Filter is not an object")
	}
	rules := [][]rule{}
	if err := c.object(&rules, nil, false); err != nil {
		return nil, err
	}
	return rules, nil
}

// object is parseObject (inOr false) and parseObjectInsideOrRelationship (inOr true).
func (c *compiler) object(rules *[][]rule, path []string, inOr bool) error {
	present := false
	for c.next().kind != jEndObject {
		present = true
		name := c.cur().text
		if name == "$or" {
			if err := c.or(rules, path); err != nil {
				return err
			}
			continue
		}
		if inOr && reservedInOr[name] {
			return c.barf(name + " is Ruler reserved fieldName which cannot be used inside $or.")
		}
		switch c.next().kind {
		case jStartObject:
			if err := c.object(rules, append(path[:len(path):len(path)], name), inOr); err != nil {
				return err
			}
		case jStartArray:
			if err := c.writeRules(rules, append(path[:len(path):len(path)], name)); err != nil {
				return err
			}
		default:
			return c.barf(fmt.Sprintf("%q must be an object or an array", name))
		}
	}
	if !present {
		return c.barf("Empty objects are not allowed")
	}
	return nil
}

// reservedInOr are Event Ruler's RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP (Constants.java).
var reservedInOr = map[string]bool{"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true, "regex": true, "not-wildcard": true,
	"not-equals-ignore-case": true, "date-after": true, "date-on-or-after": true, "date-before": true,
	"date-on-or-before": true, "in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true}

// or is parseIntoOrRelationship: each object of the array forks the branches built so far.
func (c *compiler) or(rules *[][]rule, path []string) error {
	current := *rules
	*rules = nil
	if c.next().kind != jStartArray {
		return c.barf("It must be an Array followed with $or.")
	}
	n := 0
	for t := c.next(); t.kind != jEndArray; t = c.next() {
		n++
		if t.kind != jStartObject {
			return c.barf("Only JSON object is allowed in array of $or relationship.")
		}
		fork := make([][]rule, 0, max(len(current), 1))
		for _, r := range current {
			fork = append(fork, append([]rule(nil), r...))
		}
		if len(fork) == 0 {
			fork = append(fork, nil)
		}
		if err := c.object(&fork, path, true); err != nil {
			return err
		}
		*rules = append(*rules, fork...)
	}
	if n < 2 {
		return c.barf("There must have at least 2 Objects in $or relationship.")
	}
	return nil
}

// writeRules compiles a value array and adds it, under path, to every branch.
func (c *compiler) writeRules(rules *[][]rule, path []string) error {
	var conds []cond
	for t := c.next(); t.kind != jEndArray; t = c.next() {
		switch t.kind {
		case jStartObject:
			cd, err := c.matchExpression()
			if err != nil {
				return err
			}
			conds = append(conds, cd)
		case jString:
			s := c.text()
			conds = append(conds, cond{kind: cExact, s: s, str: true})
		case jNumberInt, jNumberFloat:
			f, _ := strconv.ParseFloat(t.text, 64)
			conds = append(conds, cond{kind: cNumEq, n: f, s: t.text})
		case jNull:
			conds = append(conds, cond{kind: cNull})
		case jTrue, jFalse:
			conds = append(conds, cond{kind: cExact, s: t.text})
		default:
			return c.barf("Match value must be String, number, true, false, or null")
		}
	}
	if len(conds) == 0 {
		return c.barf("Empty arrays are not allowed")
	}
	if len(*rules) == 0 {
		*rules = append(*rules, nil)
	}
	for i := range *rules {
		(*rules)[i] = append((*rules)[i], rule{path: path, conds: conds})
	}
	return nil
}

// stringOperand reads the string operand of op and the object's end.
func (c *compiler) stringOperand(op string) (string, error) {
	if c.next().kind != jString {
		return "", c.barf(op + " match pattern must be a string")
	}
	s := c.text()
	if c.next().kind != jEndObject {
		return "", c.barf("Only one key allowed in match expression")
	}
	return s, nil
}

// matchExpression is processMatchExpression: the object's opening brace has been read.
func (c *compiler) matchExpression() (cond, error) {
	if c.next().kind != jFieldName {
		return cond{}, c.barf("Match expression name not found")
	}
	switch op := c.cur().text; op {
	case "exactly":
		s, err := c.stringOperand("exact")
		return cond{kind: cExact, s: s, str: true}, err
	case "prefix":
		s, err := c.stringOperand(op)
		return cond{kind: cPrefix, s: s}, err
	case "suffix":
		s, err := c.stringOperand(op)
		return cond{kind: cSuffix, s: s}, err
	case "equals-ignore-case":
		s, err := c.stringOperand(op)
		return cond{kind: cEqualsIgnoreCase, s: s}, err
	case "wildcard":
		s, err := c.stringOperand(op)
		return cond{kind: cWildcard, s: s}, err
	case "numeric":
		if c.next().kind != jStartArray {
			return cond{}, c.barf("Value of numeric must be an array.")
		}
		cd, err := c.numeric()
		if err != nil {
			return cond{}, err
		}
		if c.next().kind != jEndObject {
			return cond{}, c.barf("Too many elements in numeric expression")
		}
		return cd, nil
	case "anything-but":
		return c.anythingBut()
	case "exists":
		var cd cond
		switch c.next().kind {
		case jTrue:
			cd.kind = cExists
		case jFalse:
			cd.kind = cAbsent
		default:
			return cond{}, c.barf("exists match pattern must be either true or false.")
		}
		if c.next().kind != jEndObject {
			return cond{}, c.barf("Only one key allowed in match expression")
		}
		return cd, nil
	case "cidr":
		if c.next().kind != jString {
			return cond{}, c.barf("prefix match pattern must be a string")
		}
		p, err := c.cidr(c.text())
		if err != nil {
			return cond{}, err
		}
		if c.next().kind != jEndObject {
			return cond{}, c.barf("Only one key allowed in match expression")
		}
		return cond{kind: cCIDR, prefix: p}, nil
	default:
		return cond{}, c.barf("Unrecognized match type " + op)
	}
}

// cidr parses a CIDR operand as Event Ruler's CIDR.cidr does, with its messages.
func (c *compiler) cidr(s string) (netip.Prefix, error) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(bits, "/") {
		return netip.Prefix{}, c.barf("Malformed CIDR, one '/' required")
	}
	n, err := strconv.Atoi(bits)
	if err != nil {
		return netip.Prefix{}, c.barf("Malformed CIDR, mask bits must be an integer")
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, c.barf("Nonstandard IP address: " + addr)
	}
	if n < 0 || n > a.BitLen() {
		return netip.Prefix{}, c.barf("Malformed CIDR, mask bits must be between 0 and " + strconv.Itoa(a.BitLen()))
	}
	return netip.PrefixFrom(a, n).Masked(), nil
}

// anythingBut is the anything-but branch of processMatchExpression.
func (c *compiler) anythingBut() (cond, error) {
	ignoreCase := false
	t := c.next()
	if t.kind == jStartObject {
		if c.next().kind != jFieldName {
			return cond{}, c.barf("Anything-But expression name not found")
		}
		op := c.cur().text
		ignoreCase = op == "equals-ignore-case"
		if !ignoreCase {
			if op != "prefix" && op != "suffix" {
				return cond{}, c.barf("Unsupported anything-but pattern: " + op)
			}
			if c.next().kind != jString {
				return cond{}, c.barf("prefix/suffix match pattern must be a string")
			}
			s := c.text()
			if s == "" {
				return cond{}, c.barf("Null prefix/suffix not allowed")
			}
			// The inner object ends, then the match expression.
			for range 2 {
				if c.next().kind != jEndObject {
					return cond{}, c.barf("Only one key allowed in match expression")
				}
			}
			if op == "prefix" {
				return cond{kind: cAnythingButPrefix, s: s}, nil
			}
			return cond{kind: cAnythingButSuffix, s: s}, nil
		}
		t = c.next()
	}
	switch t.kind {
	case jStartArray, jString, jNumberInt, jNumberFloat:
	default:
		return cond{}, c.barf("Value of anything-but must be an array or single string/number value.")
	}
	var cd cond
	switch {
	case t.kind == jStartArray && ignoreCase:
		cd.kind = cAnythingButIgnoreCase
		for t := c.next(); t.kind != jEndArray; t = c.next() {
			if t.kind != jString {
				return cond{}, c.barf("Inside anything-but/equals-ignore-case list, numberic|start|null|boolean is not supported.")
			}
			cd.set = append(cd.set, c.text())
		}
	case t.kind == jStartArray:
		hasNum, hasStr := false, false
		for t := c.next(); t.kind != jEndArray; t = c.next() {
			switch t.kind {
			case jString:
				cd.set = append(cd.set, c.text())
				hasStr = true
			case jNumberInt, jNumberFloat:
				f, _ := strconv.ParseFloat(t.text, 64)
				cd.nums = append(cd.nums, f)
				hasNum = true
			default:
				return cond{}, c.barf("Inside anything but list, start|null|boolean is not supported.")
			}
		}
		if hasNum == hasStr {
			return cond{}, c.barf("Inside anything but list, either all values are number or string, mixed type is not supported")
		}
		cd.kind = cAnythingBut
		if hasNum {
			cd.kind = cAnythingButNum
		}
	case ignoreCase:
		if t.kind != jString {
			return cond{}, c.barf("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.")
		}
		cd = cond{kind: cAnythingButIgnoreCase, set: []string{c.text()}}
	case t.kind == jString:
		cd = cond{kind: cAnythingBut, set: []string{c.text()}}
	default:
		f, _ := strconv.ParseFloat(t.text, 64)
		cd = cond{kind: cAnythingButNum, nums: []float64{f}}
	}
	if c.next().kind != jEndObject {
		return cond{}, c.barf("Too many elements in numeric expression")
	}
	if ignoreCase && c.next().kind != jEndObject {
		return cond{}, c.barf("Too many elements in numeric expression")
	}
	return cd, nil
}

// numeric is processNumericMatchExpression: the array's opening bracket has been read.
func (c *compiler) numeric() (cond, error) {
	inf := math.Inf(1)
	cd := cond{kind: cRange, lo: -inf, hi: inf}
	if c.next().kind != jString {
		return cond{}, c.barf("Invalid member in numeric match: " + c.text())
	}
	op := c.text()
	c.next()
	value := func(name string) (float64, error) {
		if !c.cur().isNumeric() {
			return 0, c.barf("Value of " + name + " must be numeric")
		}
		f, _ := strconv.ParseFloat(c.cur().text, 64)
		return f, nil
	}
	switch op {
	case "=":
		v, err := value("equals")
		if err != nil {
			return cond{}, err
		}
		if c.next().kind != jEndArray {
			return cond{}, c.barf("Too many elements in numeric expression")
		}
		return cond{kind: cNumEq, n: v}, nil
	case ">=", ">":
		v, err := value(op)
		if err != nil {
			return cond{}, err
		}
		cd.lo, cd.loOpen = v, op == ">"
		if c.next().kind == jEndArray {
			return cd, nil
		}
		return c.numericTop(cd)
	case "<=", "<":
		v, err := value(op)
		if err != nil {
			return cond{}, err
		}
		cd.hi, cd.hiOpen = v, op == "<"
		if c.next().kind != jEndArray {
			return cond{}, c.barf("Too many elements in numeric expression")
		}
		return cd, nil
	default:
		return cond{}, c.barf("Unrecognized numeric range operator: " + op)
	}
}

// numericTop is completeNumericRange: the second operator and bound of a range.
func (c *compiler) numericTop(cd cond) (cond, error) {
	if c.cur().kind != jString {
		return cond{}, c.barf("Bad value in numeric range: " + c.text())
	}
	op := c.text()
	if op != "<" && op != "<=" {
		return cond{}, c.barf("Bad numeric range operator: " + op)
	}
	if !c.next().isNumeric() {
		return cond{}, c.barf("Value of " + op + " must be numeric")
	}
	top, _ := strconv.ParseFloat(c.cur().text, 64)
	if c.next().kind != jEndArray {
		return cond{}, c.barf("Too many terms in numeric range expression")
	}
	if top <= cd.lo {
		return cond{}, c.barf("Bottom must be less than top")
	}
	cd.hi, cd.hiOpen = top, op == "<"
	return cd, nil
}
