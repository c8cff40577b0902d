package scalers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The opcodes of MongoDB's wire protocol the fake below speaks.
const (
	mongoOpReply = 1
	mongoOpQuery = 2004
	mongoOpMsg   = 2013
)

// serveMongo answers a connection as a MongoDB server on 127.0.0.1 would: the driver's handshake
// (hello, over OP_QUERY or OP_MSG) as a standalone server of wire version 21 without sessions,
// and the count's aggregate with the current fuzz input as the reply document, then it hangs up,
// so that an answer cut short ends in EOF instead of a wait.
func serveMongo(s *fuzzTCPServer, c net.Conn) {
	hello, _ := bson.Marshal(bson.D{{Key: "ismaster", Value: true}, {Key: "isWritablePrimary", Value: true}, {Key: "helloOk", Value: true},
		{Key: "maxBsonObjectSize", Value: int32(16 << 20)}, {Key: "maxMessageSizeBytes", Value: int32(48_000_000)}, {Key: "maxWriteBatchSize", Value: int32(100_000)},
		{Key: "minWireVersion", Value: int32(0)}, {Key: "maxWireVersion", Value: int32(21)}, {Key: "ok", Value: 1.0}})
	ok, _ := bson.Marshal(bson.D{{Key: "ok", Value: 1.0}})
	for {
		requestID, opCode, command, err := readMongoCommand(c)
		if err != nil {
			return
		}
		answer := ok
		switch strings.ToLower(command) {
		case "hello", "ismaster":
			answer = hello
		case "aggregate":
			answer = s.reply()
		}
		if err := writeMongoReply(c, requestID, opCode, answer); err != nil || command == "aggregate" {
			return
		}
	}
}

// readMongoCommand reads one request and returns its id, opcode and command name (the first key
// of its command document).
func readMongoCommand(r io.Reader) (requestID int32, opCode int32, command string, err error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return 0, 0, "", err
	}
	length := int32(binary.LittleEndian.Uint32(header[0:]))
	requestID = int32(binary.LittleEndian.Uint32(header[4:]))
	opCode = int32(binary.LittleEndian.Uint32(header[12:]))
	if length < 16 || length > 48_000_000 {
		return 0, 0, "", errors.New("bad message length")
	}
	body := make([]byte, length-16)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, "", err
	}
	var doc []byte
	switch opCode {
	case mongoOpQuery:
		// flags, the collection's cstring, skip and limit, then the command.
		name := bytes.IndexByte(body[4:], 0)
		if name < 0 || len(body) < 4+name+1+8 {
			return 0, 0, "", errors.New("bad OP_QUERY")
		}
		doc = body[4+name+1+8:]
	case mongoOpMsg:
		// flag bits, then the kind 0 section (the command) first.
		if len(body) < 5 || body[4] != 0 {
			return 0, 0, "", errors.New("bad OP_MSG")
		}
		doc = body[5:]
	default:
		return 0, 0, "", errors.New("unexpected opcode")
	}
	elems, err := bson.Raw(doc).Elements()
	if err != nil && len(elems) == 0 {
		return 0, 0, "", err
	}
	if len(elems) == 0 {
		return 0, 0, "", errors.New("empty command")
	}
	return requestID, opCode, elems[0].Key(), nil
}

// writeMongoReply answers a request in the protocol it came in: OP_REPLY to OP_QUERY, OP_MSG to
// OP_MSG.
func writeMongoReply(w io.Writer, responseTo, opCode int32, doc []byte) error {
	var body []byte
	replyCode := int32(mongoOpMsg)
	if opCode == mongoOpQuery {
		replyCode = mongoOpReply
		// flags, cursor id, starting from, one document.
		body = binary.LittleEndian.AppendUint32(make([]byte, 0, 20+len(doc)), 0)
		body = binary.LittleEndian.AppendUint64(body, 0)
		body = binary.LittleEndian.AppendUint32(body, 0)
		body = binary.LittleEndian.AppendUint32(body, 1)
	} else {
		body = append(binary.LittleEndian.AppendUint32(make([]byte, 0, 5+len(doc)), 0), 0)
	}
	body = append(body, doc...)
	msg := binary.LittleEndian.AppendUint32(make([]byte, 0, 16+len(body)), uint32(16+len(body)))
	msg = binary.LittleEndian.AppendUint32(msg, 1)
	msg = binary.LittleEndian.AppendUint32(msg, uint32(responseTo))
	msg = binary.LittleEndian.AppendUint32(msg, uint32(replyCode))
	_, err := w.Write(append(msg, body...))
	return err
}

// mongoCountReply is the aggregate's answer with one result document.
func mongoCountReply(f *testing.F, result bson.D, more ...bson.E) []byte {
	cursor := bson.D{{Key: "firstBatch", Value: bson.A{result}}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "q.jobs"}}
	b, err := bson.Marshal(append(bson.D{{Key: "cursor", Value: cursor}, {Key: "ok", Value: 1.0}}, more...))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzMongoDBReply serves arbitrary replies to the count's aggregate through mongo-driver: a
// poll reads a count of 0 or more, or fails with an error that names the trigger; it never
// panics or hangs.
func FuzzMongoDBReply(f *testing.F) {
	for _, n := range []any{int32(42), int64(0), int64(-5), 12.5, "7", int64(1) << 62, nil} {
		f.Add(mongoCountReply(f, bson.D{{Key: "_id", Value: int32(1)}, {Key: "n", Value: n}}))
	}
	f.Add(mongoCountReply(f, bson.D{{Key: "_id", Value: int32(1)}}))
	empty, _ := bson.Marshal(bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{}}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: "q.jobs"}}}, {Key: "ok", Value: 1.0}})
	f.Add(empty)
	open, _ := bson.Marshal(bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{}}, {Key: "id", Value: int64(9)}, {Key: "ns", Value: "q.jobs"}}}, {Key: "ok", Value: 1.0}})
	f.Add(open)
	for _, e := range []bson.D{
		{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "Authentication failed."}, {Key: "code", Value: int32(18)}, {Key: "codeName", Value: "AuthenticationFailed"}},
		{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "Command aggregate requires authentication"}, {Key: "code", Value: int32(13)}, {Key: "codeName", Value: "Unauthorized"}},
		{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "unknown operator: $nope"}, {Key: "code", Value: int32(2)}, {Key: "codeName", Value: "BadValue"}},
		{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "interrupted at shutdown"}, {Key: "code", Value: int32(11600)}},
		{{Key: "ok", Value: 1.0}},
	} {
		b, _ := bson.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Add([]byte("not bson"))
	srv := newFuzzTCPServer(f, serveMongo)
	f.Fuzz(func(t *testing.T, reply []byte) {
		// The driver retries a read the server refused with a retryable code (11600, shutting
		// down) until the trigger's timeout: a short one keeps such inputs short.
		s, err := New(context.Background(), &Config{TriggerType: "mongodb", TriggerIndex: 7, Timeout: 2 * time.Second,
			TriggerMetadata: map[string]string{"dbName": "q", "collection": "jobs", "query": `{"status": "queued"}`, "queryValue": "5", "activationQueryValue": "2"},
			AuthParams:      map[string]string{"connectionString": "mongodb://" + srv.lis.Addr().String() + "/q?directConnection=true"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		srv.set(reply)
		vals, active, err := poll(t, s, "s7-mongodb-jobs")
		if err != nil {
			checkErr(t, err, "trigger 7 (mongodb)")
			return
		}
		if len(vals) != 1 {
			t.Fatalf("poll gave %+v", vals)
		}
		n := vals[0].Value.AsApproximateFloat64()
		if n < 0 || active != (n > 2) {
			t.Fatalf("reply %x: value %g, active %t", reply, n, active)
		}
	})
}
