package logs

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Pagination tokens are opaque to clients. The service encodes the sort key of the last item it
// returned, so a token stays valid across writes and needs no server-side state. A token that
// does not decode is rejected with AWS's "The specified nextToken is invalid.".

func encodeKeyToken(kind string, parts ...string) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

func decodeKeyToken(tok, kind string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	// The decoder skips line breaks; only the exact encoding we issue is a valid token.
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != tok {
		return nil, errInvalidToken
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != n+1 || parts[0] != kind {
		return nil, errInvalidToken
	}
	return parts[1:], nil
}

// Event tokens look like AWS's GetLogEvents tokens ("f/<digits>", "b/<digits>"): the direction,
// then the 20-digit timestamp and 20-digit sequence of the event the page ended at.

func encodeEventToken(dir byte, c EventCursor) string {
	return fmt.Sprintf("%c/%020d%020d", dir, c.Timestamp, c.Seq)
}

func decodeEventToken(tok string) (dir byte, c EventCursor, err error) {
	if len(tok) != 42 || tok[1] != '/' || (tok[0] != 'f' && tok[0] != 'b') {
		return 0, c, errInvalidToken
	}
	for i := 2; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, c, errInvalidToken
		}
	}
	ts, err1 := strconv.ParseInt(tok[2:22], 10, 64)
	seq, err2 := strconv.ParseInt(tok[22:], 10, 64)
	if err1 != nil || err2 != nil || ts < 0 || seq < 0 {
		return 0, c, errInvalidToken
	}
	return tok[0], EventCursor{Timestamp: ts, Seq: seq}, nil
}

// eventID renders an event's identity the way AWS does: a long decimal string (AWS's are 56
// digits). It is unique because Seq is.
func eventID(e Event) string {
	return fmt.Sprintf("%020d%036d", e.Timestamp, e.Seq)
}

// SequenceToken renders an upload sequence as AWS's 56-digit sequence tokens (PutLogEvents
// nextSequenceToken, DescribeLogStreams uploadSequenceToken). Clients may send them back; they are
// ignored.
func SequenceToken(seq int64) string { return sequenceToken(seq) }

func sequenceToken(seq int64) string {
	return fmt.Sprintf("%056d", seq)
}
