// Package awsapi is trailwatch's wire layer: it lets unmodified AWS clients (the aws CLI v1 and v2,
// aws-sdk-go-v2) talk to trailwatch on a single HTTP listener.
//
// One http.Handler serves every configured Service. For each request it detects the protocol the
// client speaks (Smithy RPC v2 CBOR, awsJson 1.0/1.1 or awsQuery), verifies the SigV4 signature,
// decodes the body into the operation's typed input struct, calls the handler and encodes the output
// or the error the way that protocol and that service expect. Service adapters (logsapi,
// monitoringapi, …) therefore write one typed handler per operation, whatever the protocol.
//
// Shapes are plain Go structs. A field's `json:"Name,omitempty"` tag names the AWS member for every
// protocol: the JSON key, the CBOR map key, the query form key and the XML element. An optional
// `aws:"…"` tag carries query/XML-only options (see the package's field options below). Optional
// members are pointers; a field without omitempty is always sent (an empty list is then rendered as
// an empty element in XML and as an empty array in JSON and CBOR), which is how CloudWatch's
// DescribeAlarms always carries <MetricAlarms/>.
//
// Field options in the `aws` tag, comma separated:
//
//	flat          the list or map is flattened in query and XML (Name.N instead of Name.member.N)
//	member=X      list element name in query and XML instead of "member"
//	key=X         map entry key name instead of "key" (SNS MessageAttributes use key=Name)
//	value=X       map entry value name instead of "value" (SNS MessageAttributes use value=Value)
//
// Decisions on questions the AWS documentation leaves open are written beside the code that makes
// them; the most visible ones are:
//
//   - A request whose query-form value does not parse as its member's type is answered with the
//     service's Service.QueryValidationCode (default "ValidationError") and a message naming the
//     member, status 400. JSON and CBOR bodies that do not decode give SerializationException.
//   - JSON and CBOR no-output operations answer "{}" and an empty CBOR map respectively.
//   - Authentication errors on JSON and CBOR use the awsJson codes (UnrecognizedClientException,
//     InvalidSignatureException, …); query-compatible services add the awsQuery code in
//     x-amzn-query-error.
package awsapi
