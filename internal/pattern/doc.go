// Package pattern implements the CloudWatch Logs filter-pattern language exactly as AWS
// evaluates it, for metric filters, subscription filters, FilterLogEvents and
// TestMetricFilter. The specification is ../shared/reference/filter-patterns.md (section
// numbers below refer to it).
//
// The pipeline is a hand-written lexer (lex.go: one routine per token kind, shared by the three
// sub-languages) and recursive-descent parser (parse.go) that produce an AST whose String method
// prints canonical pattern text (ast.go), and a compiler that turns
// the AST into small matcher values (match.go, pattern.go, delimited.go). JSON patterns never
// decode the event: a byte scanner (json.go) walks the event once, following a trie of just the
// selectors the filters need, and records where their values are; the conditions then compare
// bytes. A Set shares that one walk among all metric filters of a log group, so the cost per
// event grows with the number of distinct selectors, not with the number of filters.
//
// Errors are *Error values with AWS's code (InvalidParameterException) and message, plus a
// byte position and a detail for humans. Compile words messages for the metric-filter
// operations ("Invalid metric filter pattern"); FilterLogEvents callers use
// (*Error).ForFilterLogEvents to get AWS's "Invalid filter pattern" wording.
//
// # Decisions
//
// The reference leaves some behaviour open (§11). Each choice below is pinned by a test in
// decisions_test.go, named after the item.
//
//   - §11.1 Space-delimited field count. Spaces and tabs both separate fields and a run of
//     them is one separator. Without "...", an event with fewer fields than the pattern does
//     not match; one with more fields matches and the last pattern field takes the rest of the
//     line as written (the 2025 doc's `[w1=ERROR, w2]` example and the widely deployed Lambda
//     pattern `[timestamp=*Z, request_id="*-*", event]` both need this). A field that starts
//     with " or [ runs to the next " or ]; quotes and brackets inside a field are literal.
//   - §11.2 `[w1!=ERROR&&w1!=WARN, w2]` is evaluated by the ordinary rules (a doc error).
//   - §11.3 The non-backtracking wildcard model applies to JSON values and to delimited fields
//     alike.
//   - §11.4 JSON null satisfies only IS NULL; booleans satisfy only IS TRUE / IS FALSE; neither
//     matches =, != or the ordering operators (so `= *` means "is a string or number"). A key
//     whose value is null exists, so NOT EXISTS is false for it.
//   - §11.5 An unquoted number compared with a JSON string compares numerically when the whole
//     string is a number ("150" > 100 holds); otherwise only != holds. Quoted literals always
//     compare as text.
//   - §11.6 A wildcard selector ($.*, [*]) matches when any value it reaches passes the test,
//     for every operator including !=; NOT EXISTS holds when it reaches no value. $.* does
//     not descend into nested objects, and .* applies to objects only, [*] to arrays only.
//   - §11.7 Keywords are upper case only: `is null`, `not exists` and `NOT EXIST` are rejected.
//   - §11.8 The only bracket selector is .['key'] (after any step); $['k'] and $["k"] are
//     rejected.
//   - §11.9 There is no escape for a literal * in values; == is rejected.
//   - §11.10 Unquoted terms are [A-Za-z0-9_]+. A hyphen inside a word, or "- term" with a space,
//     is rejected with "Invalid character(s) in term".
//   - §11.11 `?` terms follow the AWS doc, not CDK: any plain or - term makes every ? term
//     ignored.
//   - §11.12 A %regex% term must be the whole term pattern (no other terms, no ? or - prefix),
//     and every pattern kind is capped at 2 regexes. The regex flavour is RE2 restricted to
//     DOC-REGEX's characters; {,n} means {0,n}; space is allowed. A regex that compiles to more
//     than 1000 RE2 instructions (e.g. %.{1000}.{1000}%) is rejected with AWS's "Regular
//     expression evaluation time exceeded allowed limit", since RE2's cost is the event length
//     times the program size and AWS applies an evaluation-time limit of its own.
//   - §11.13 eventNumber starts at 1 (the aws-cli example); `trailwatch test-pattern` numbers
//     lines from 1 too and has no 50-message limit.
//   - §11.14 metricValue `$.field` need not appear in the pattern. A missing, null, boolean,
//     object, array or non-numeric value publishes nothing for that event (Result.Publish is
//     false); a JSON string holding a number ("50") is used as that number. A missing
//     dimension field also publishes nothing.
//   - §11.15 Leading whitespace before { or [ makes the pattern a term pattern, which fails
//     with the generic "Invalid metric filter pattern" (AWS's answer in CFCHOU's e2e test);
//     text after the closing } or ] is rejected, trailing whitespace is not.
//   - §11.16 {} and () are rejected.
//   - §11.17 Delimited field names are case sensitive, and a condition in a slot must name
//     that slot's field. A name may be used once; at most one "..." per pattern.
//   - §11.18 A character that cannot start or continue any token is reported as AWS does,
//     "Invalid character(s) in term '<c>'"; every other syntax error is the surface's generic
//     message, with the detail and position in Error.Detail and Error.Pos.
//
// Other choices: an event is a JSON event only if it is one JSON object or array (nothing but
// whitespace around it). JSON leaves repeated keys undefined: a plain selector sees the last
// occurrence (as encoding/json does), a wildcard selector every occurrence, and a path below a
// repeated key is looked up in every object that key held.
package pattern
