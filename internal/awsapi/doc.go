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
//   - A query-form value that does not parse as its member's type (Period=30.0) is answered as AWS
//     CloudWatch does: 400 MalformedInput without a message (boto/boto#3530). A service that sets
//     Service.QueryValidationCode gets that code with a message naming the member ("1 validation
//     error detected: Value 'sixty' at 'Period' failed to satisfy constraint: Member must be an
//     integer").
//   - JSON and CBOR bodies that do not decode give SerializationException: malformed bodies without
//     a message, values of the wrong type with the Coral deserializer's wording ("class
//     java.lang.String can not be converted to an Integer", "Start of list found where not
//     expected"). JSON member names match case-sensitively; doubles accept "NaN", "Infinity" and
//     "-Infinity"; unknown members are ignored.
//   - Errors raised by the framework itself (authentication, serialization, unknown operation,
//     internal failure) carry the com.amazon.coral.service namespace in __type when the service
//     namespaces its types, and SerializationException spells its message member "Message".
//   - With X-Amzn-Query-Mode: true, a query-compatible service answers JSON/CBOR errors with the
//     awsQuery status (404 ResourceNotFound, 403 SignatureDoesNotMatch); without it, 4xx becomes
//     400 and authentication errors use the awsJson status (400).
//   - SigV4: the clock-skew window is five minutes; X-Amz-Date is required (the Date header form is
//     not supported); requests whose signed headers include one the aws-sdk-go-v2 signer never
//     signs (user-agent, expect, transfer-encoding, x-amzn-trace-id) cannot be verified and get a
//     signature mismatch; the Host header the client sent is used, so a proxy in front must keep
//     it. Any lowercase region name is accepted, since a region is only a scope here.
//   - SigV4 payloads: a header-signed request must sign the headers that route it (Content-Type,
//     X-Amz-Target, Smithy-Protocol) when it carries them, and its payload: UNSIGNED-PAYLOAD is
//     refused, since no client of these services sends it. A presigned URL is an awsQuery call
//     whose parameters are all in its signed query, signed over the empty payload's hash (as
//     botocore and aws-sdk-go-v2 presign for every service but S3); it may not carry a body,
//     X-Amz-Target, Smithy-Protocol or a JSON/CBOR Content-Type.
//   - Bodies: nothing of a body is read before the request's key and scope check out. A declared
//     X-Amz-Content-Sha256 is verified before the body is read and the body checked against it as
//     it streams; without one (the SDKs declare it to S3 only) the body must be read to be
//     verified, so such bodies are charged as their bytes arrive to a budget
//     (Config.MaxUnverifiedBytes, half of it at most for one client address) until they are
//     verified or refused, each read within a deadline of a few seconds plus its size at a minimum
//     rate (408 RequestTimeout past it); a read that finds the budget spent is answered 503
//     ServiceUnavailable. A connection that sends headers and nothing more is charged a few
//     hundred bytes, so holding the budget costs a client the bandwidth to send it. Requests that
//     cannot be verified at all (no Authorization) read their small form within a budget of their
//     own, so they cannot starve signed ones. Gzip bodies are inflated only once
//     authenticated, within the body limit.
//   - JSON and CBOR no-output operations answer "{}" and an empty CBOR map respectively.
//   - Authentication errors on JSON and CBOR use the awsJson codes (UnrecognizedClientException,
//     InvalidSignatureException, …); query-compatible services add the awsQuery code in
//     x-amzn-query-error.
package awsapi
