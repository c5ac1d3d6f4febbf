package awsapi

import (
	"errors"
	"fmt"
	"github.com/fxamacker/cbor/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// bufPool recycles response buffers: large Logs responses (GetLogEvents up to 1 MB) would otherwise
// regrow a buffer per request.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBuf keeps exceptionally large buffers out of the pool.
const maxPooledBuf = 4 << 20

// writeOutput sends a successful result in the request's protocol.
func (h *handler) writeOutput(c *call, out any) {
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			bufPool.Put(bp)
		}
	}()
	var body []byte
	var err error
	hdr := c.w.Header()
	switch c.proto {
	case ProtocolQuery:
		hdr.Set("Content-Type", "text/xml")
		body = appendQueryResponse((*bp)[:0], c.op, c.svc.XMLNamespace, c.requestID, reflect.ValueOf(out))
	case ProtocolJSON10, ProtocolJSON11:
		hdr.Set("Content-Type", jsonContentType(c.proto))
		body, err = appendJSON((*bp)[:0], out)
	case ProtocolCBOR:
		hdr.Set("Smithy-Protocol", "rpc-v2-cbor")
		hdr.Set("Content-Type", "application/cbor")
		body, err = appendCBOR((*bp)[:0], out)
	}
	*bp = body
	if err != nil {
		h.log.Error("encode response", "service", c.svc.SigningName, "operation", c.op, "request_id", c.requestID, "err", err)
		h.writeError(c, internalFailure)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	c.status = http.StatusOK
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body) // the client went away; nothing left to tell it
}

func jsonContentType(p Protocol) string {
	if p == ProtocolJSON10 {
		return "application/x-amz-json-1.0"
	}
	return "application/x-amz-json-1.1"
}

// writeError sends e in the request's protocol (reference §4.3).
func (h *handler) writeError(c *call, e wireError) {
	hdr := c.w.Header()
	status := e.status
	var body []byte
	if c.proto == ProtocolQuery {
		ns := ""
		if c.svc != nil {
			ns = c.svc.XMLNamespace
		}
		hdr.Set("Content-Type", "text/xml")
		body = encodeQueryError(ns, c.requestID, e)
	} else {
		code := e.code
		if e.jsonCode != "" {
			code = e.jsonCode
		}
		if e.jsonStatus != 0 {
			status = e.jsonStatus
		}
		typ := code
		if c.svc != nil {
			if shape, ok := c.svc.ErrorShapes[e.code]; ok {
				typ = shape
			}
			switch {
			case c.svc.ErrorNamespace == "" || strings.Contains(typ, "#"):
			case e.coral:
				typ = "com.amazon.coral.service#" + typ
			default:
				typ = c.svc.ErrorNamespace + "#" + typ
			}
			if c.svc.QueryCompatible {
				fault := "Sender"
				if !e.sender {
					fault = "Receiver"
				}
				hdr.Set("x-amzn-query-error", e.code+";"+fault)
				if c.queryMode {
					status = e.status // the awsQuery status, e.g. 404 ResourceNotFound, 403 SignatureDoesNotMatch
				} else if status >= 400 && status < 500 {
					status = http.StatusBadRequest
				}
			}
		}
		msgKey := "message"
		if e.code == "SerializationException" {
			msgKey = "Message" // Coral's spelling for this exception
		}
		if c.proto == ProtocolCBOR {
			hdr.Set("Smithy-Protocol", "rpc-v2-cbor")
			hdr.Set("Content-Type", "application/cbor")
			m := map[string]string{"__type": typ}
			if !e.noMessage {
				m[msgKey] = e.message
			}
			var err error
			if body, err = appendCBOR(nil, &m); err != nil {
				body = nil // a map of strings always encodes
			}
		} else {
			hdr.Set("Content-Type", jsonContentType(c.proto))
			hdr.Set("X-Amzn-ErrorType", shapeName(typ))
			body = append(appendJSONString([]byte(`{"__type":`), typ), '}')
			if !e.noMessage {
				body = append(body[:len(body)-1], ',')
				body = appendJSONString(body, msgKey)
				body = append(appendJSONString(append(body, ':'), e.message), '}')
			}
		}
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	c.status = status
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// shapeName strips the namespace from a __type.
func shapeName(typ string) string {
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

// decodeError turns a JSON or CBOR decoding failure into AWS's SerializationException: malformed
// bodies get no message (as AWS answers), values of the wrong type get Coral's wording.
func decodeError(err error) wireError {
	e := errSerialization("")
	var te *jsonTypeError
	var ce *cbor.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		e.message = te.msg
	case errors.As(err, &ce):
		e.message = fmt.Sprintf("CBOR %s can not be converted to %s", ce.CBORType, coralTarget(ce.GoType))
	default:
		e.noMessage = true
	}
	return e
}

// coralTarget names a Go type the way Coral's conversion messages name shapes.
func coralTarget(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]uint8"):
		return "a Blob"
	case strings.HasPrefix(goType, "[]"):
		return "a List"
	case strings.HasPrefix(goType, "map["):
		return "a Map"
	case goType == "string":
		return "an String"
	case goType == "bool":
		return "an Boolean"
	case goType == "int64" || goType == "uint64" || goType == "int":
		return "an Long"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "an Integer"
	case strings.HasPrefix(goType, "float"):
		return "an Double"
	}
	return "a Structure"
}
