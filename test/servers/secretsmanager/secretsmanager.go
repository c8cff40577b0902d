// Package secretsmanager is a fake of AWS Secrets Manager for the awsSecretManager
// TriggerAuthentication source's contract tests. It speaks the AWS JSON 1.1 protocol that
// Secrets Manager documents and aws-sdk-go-v2 uses:
//
//	POST /  X-Amz-Target: secretsmanager.GetSecretValue  Content-Type: application/x-amz-json-1.1
//	        {"SecretId": "name or ARN", "VersionId": "...", "VersionStage": "AWSCURRENT"}
//	-> 200  {"ARN": ..., "Name": ..., "VersionId": ..., "SecretString": ..., "VersionStages": [...]}
//
// with requests signed with Signature Version 4 for the service secretsmanager, which the fake
// verifies against the one set of credentials it accepts, and Secrets Manager's error answers:
// 400 ResourceNotFoundException for an unknown secret, version or stage, 400
// InvalidParameterException for a VersionId and VersionStage that name different versions, 400
// UnrecognizedClientException or InvalidSignatureException for wrong credentials.
//
// Versions follow Secrets Manager's staging labels: PutSecret adds a version labelled AWSCURRENT
// and moves AWSPREVIOUS to the version that had it.
package secretsmanager

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options configures a server.
type Options struct {
	// Region is the region requests must be signed for; us-east-1 when empty.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials the server accepts.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Request is a request the server answered.
type Request struct {
	Target                            string
	SecretID, VersionID, VersionStage string
	AccessKeyID, Region               string
	Status                            int
}

type version struct {
	id     string
	value  string
	stages []string
}

// Server is a running fake.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	secrets  map[string][]*version
	requests []Request
}

// Start starts a server on 127.0.0.1; Close stops it.
func Start(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	s := &Server{opts: opts, secrets: map[string][]*version{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// ARN is the ARN Secrets Manager would give the secret name (without its random suffix).
func (s *Server) ARN(name string) string {
	return "arn:aws:secretsmanager:" + s.opts.Region + ":000000000000:secret:" + name
}

// PutSecret stores a new version of the secret, labelled AWSCURRENT, and returns its VersionId.
func (s *Server) PutSecret(name, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	versions := s.secrets[name]
	for _, v := range versions {
		v.stages = slices.DeleteFunc(v.stages, func(st string) bool { return st == "AWSPREVIOUS" })
		for i, st := range v.stages {
			if st == "AWSCURRENT" {
				v.stages[i] = "AWSPREVIOUS"
			}
		}
	}
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(versions)+1)
	s.secrets[name] = append(versions, &version{id: id, value: value, stages: []string{"AWSCURRENT"}})
	return id
}

// LabelVersion adds a staging label to a version of the secret.
func (s *Server) LabelVersion(name, versionID, stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.secrets[name] {
		if v.id == versionID {
			v.stages = append(v.stages, stage)
			return
		}
	}
	panic("secretsmanager fake: no version " + versionID + " of " + name)
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Target: r.Header.Get("X-Amz-Target")}
	rec.Status = s.handle(w, r, &rec)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/" {
		return fail(w, 400, "InvalidRequestException", "requests are POST / with a JSON body")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return fail(w, 400, "InvalidRequestException", "Content-Type "+ct+" is not application/x-amz-json-1.1")
	}
	keyID, region, e := sigv4.Verify(r, body, sigv4.Credentials{Service: "secretsmanager", Region: s.opts.Region,
		AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: s.opts.SessionToken})
	rec.AccessKeyID, rec.Region = keyID, region
	if e != nil {
		return fail(w, e.Status, e.Code, e.Message)
	}
	if rec.Target != "secretsmanager.GetSecretValue" {
		return fail(w, 400, "InvalidAction", "the fake answers secretsmanager.GetSecretValue only, not "+rec.Target)
	}
	var in struct {
		SecretId, VersionId, VersionStage string
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SecretId == "" {
		return fail(w, 400, "InvalidParameterException", "SecretId is required")
	}
	rec.SecretID, rec.VersionID, rec.VersionStage = in.SecretId, in.VersionId, in.VersionStage
	return s.getSecretValue(w, in.SecretId, in.VersionId, in.VersionStage)
}

func (s *Server) getSecretValue(w http.ResponseWriter, secretID, versionID, stage string) int {
	name := strings.TrimPrefix(secretID, "arn:aws:secretsmanager:"+s.opts.Region+":000000000000:secret:")
	s.mu.Lock()
	versions := s.secrets[name]
	s.mu.Unlock()
	if len(versions) == 0 {
		return fail(w, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	if versionID == "" && stage == "" {
		stage = "AWSCURRENT"
	}
	var found *version
	for _, v := range versions {
		if (versionID == "" || v.id == versionID) && (stage == "" || slices.Contains(v.stages, stage)) {
			found = v
		}
	}
	if found == nil {
		if versionID != "" && stage != "" {
			return fail(w, 400, "InvalidParameterException", "You provided a VersionStage that is not attached to the specified VersionId.")
		}
		if versionID != "" {
			return fail(w, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+versionID)
		}
		return fail(w, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stage)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": s.ARN(name), "Name": name, "VersionId": found.id, "SecretString": found.value,
		"VersionStages": found.stages, "CreatedDate": 1.7e9,
	})
	return http.StatusOK
}

func fail(w http.ResponseWriter, status int, code, message string) int {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": message})
	return status
}
