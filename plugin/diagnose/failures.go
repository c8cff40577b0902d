package diagnose

import (
	"regexp"
	"strings"
)

// The causes `kubectl keda describe` names for a failing trigger. The operator's errors already
// say what to check; the cause puts the kind of failure in the finding's title, the same words for
// every trigger type.
const (
	CauseCredentials = "credentials refused"
	CauseNotFound    = "not found at the source"
	CauseCertificate = "certificate not trusted"
	CauseTimeout     = "no answer in time"
	CauseUnreachable = "source unreachable"
	CauseRefused     = "request refused by the source"
)

// causePatterns are the phrases, ours and the client libraries' and servers', that give each cause
// away, most specific first: a refused credential is often reported through a closed connection
// or a 404 of a hidden resource, so credentials are looked for before the rest.
var causePatterns = []struct {
	cause string
	re    *regexp.Regexp
}{
	{CauseCredentials, regexp.MustCompile(`(?i)refused the (credential|key|token|signature)|wants credentials|refused a token|` +
		`\b(401|403)\b|unauthori[sz]ed|forbidden|access ?denied|authentication ?failed|noauth|wrongpass|invalid password|` +
		`password authentication failed|invalidclienttokenid|signaturedoesnotmatch|unrecognizedclientexception|sasl|not authorized`)},
	{CauseCertificate, regexp.MustCompile(`(?i)certificate (is )?not trusted|x509:|unknown authority|certificate signed by`)},
	{CauseNotFound, regexp.MustCompile(`(?i)\b404\b|does not exist|not found|no such (queue|stream|topic|key|bucket|container)|nonexistentqueue|unknown (topic|queue|stream)`)},
	{CauseTimeout, regexp.MustCompile(`(?i)no answer within|timeout|timed out|deadline exceeded`)},
	{CauseUnreachable, regexp.MustCompile(`(?i)could not reach|connection refused|no such host|network is unreachable|no route to host|connection reset|eof\b|dial tcp`)},
	{CauseRefused, regexp.MustCompile(`(?i)\b(400|422|429)\b|refused the query|bad request|rate limit`)},
}

// FailureCause names the kind of failure a trigger's error message describes, or "" when it is
// none of the common ones.
func FailureCause(message string) string {
	for _, p := range causePatterns {
		if p.re.MatchString(message) {
			return p.cause
		}
	}
	return ""
}

// failurePrefix is how the operator's KEDAScalerFailed and KEDAMetricSourceFailed events start:
// "trigger <i> (<type>) metric <name>: <error>".
var failurePrefix = regexp.MustCompile(`^trigger \d+ \([^)]*\) metric (\S+): `)

// TriggerFailure splits the message of a trigger failure event into the metric it is about and
// the error; ok is false for other messages (upstream KEDA's words them otherwise).
func TriggerFailure(message string) (metric, err string, ok bool) {
	m := failurePrefix.FindStringSubmatch(message)
	if m == nil {
		return "", "", false
	}
	return m[1], strings.TrimSpace(message[len(m[0]):]), true
}
