// Package sigv4 verifies AWS Signature Version 4 (header form) for the fakes of AWS services, as
// AWS documents it: the Authorization header's credential scope <key id>/<date>/<region>/<service>/aws4_request,
// X-Amz-Date within 15 minutes, X-Amz-Security-Token for temporary credentials, and the signature
// of the canonical request under the key derived from the secret access key.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Credentials are what a fake accepts.
type Credentials struct {
	Service, Region                            string
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Kind is why a request was refused; each service names it with its own error code.
type Kind int

const (
	// Missing: no SigV4 Authorization header.
	Missing Kind = iota + 1
	// Incomplete: the header lacks its credential scope, signed headers or signature.
	Incomplete
	// UnknownCredentials: another key id, or a missing or wrong session token.
	UnknownCredentials
	// BadSignature: another region, an expired date, or a signature that does not match.
	BadSignature
)

// Error is a refusal, with the kind, the HTTP status and a message as AWS words it, under the
// error code of the JSON 1.1 services (Code); a fake of another protocol maps Kind to its own.
type Error struct {
	Kind    Kind
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Verify checks r's signature over body; it returns the key id and region the request was signed
// with (also when it refuses it, if the header could be read).
func Verify(r *http.Request, body []byte, c Credentials) (keyID, region string, _ *Error) {
	const alg = "AWS4-HMAC-SHA256 "
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, alg) {
		return "", "", &Error{Missing, 403, "MissingAuthenticationTokenException", "Request is missing Authentication Token"}
	}
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(authz, alg), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[3] != c.Service || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return "", "", &Error{Incomplete, 400, "IncompleteSignatureException", "malformed Authorization header"}
	}
	keyID, region = scope[0], scope[2]
	if keyID != c.AccessKeyID {
		return keyID, region, &Error{UnknownCredentials, 403, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if region != c.Region {
		return keyID, region, &Error{BadSignature, 403, "InvalidSignatureException", "Credential should be scoped to a valid region."}
	}
	if r.Header.Get("X-Amz-Security-Token") != c.SessionToken {
		return keyID, region, &Error{UnknownCredentials, 403, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) || time.Since(t).Abs() > 15*time.Minute {
		return keyID, region, &Error{BadSignature, 403, "InvalidSignatureException", "Signature expired or X-Amz-Date is missing."}
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-amz-date") {
		return keyID, region, &Error{BadSignature, 403, "InvalidSignatureException", "host and x-amz-date must be signed"}
	}
	want := signature(c.SecretAccessKey, scope, amzDate, canonicalRequest(r, signed, body))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return keyID, region, &Error{BadSignature, 403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."}
	}
	return keyID, region, nil
}

// canonicalRequest is SigV4's canonical form of r.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path + "\n")
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		for _, v := range q[k] {
			qs = append(qs, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	b.WriteString(strings.Join(qs, "&") + "\n")
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		b.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

func signature(secret string, scope []string, amzDate, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := fmt.Sprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", amzDate, strings.Join(scope[1:], "/"), hex.EncodeToString(sum[:]))
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
