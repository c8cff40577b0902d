package scalers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/kedactl/kedactl/scalers/meta"
)

// MongoDB's error codes the scaler words (the server's error_codes.yml).
const (
	mongoDBCodeUnauthorized         = 13
	mongoDBCodeAuthenticationFailed = 18
)

// mongoDBWhere is what a user checks when the server cannot be reached.
const mongoDBWhere = "check host and port (or connectionString), and that the server runs"

// mongoDBFailure words why a count failed and what to check. timedOut says the trigger's
// timeout (timeout) ended the call. The driver waits for a server until the deadline, then says
// so with every server's last error: the cause is that last error ("connection refused"), so it
// is named alone, not behind the driver's "context deadline exceeded".
func mongoDBFailure(err error, timedOut bool, timeout time.Duration) string {
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		var last []string
		for _, srv := range sel.Desc.Servers {
			if srv.LastError != nil {
				last = append(last, fmt.Sprintf("%s: %v", srv.Addr, srv.LastError))
			}
		}
		cause := meta.Clip(strings.Join(last, "; "), 300)
		switch {
		case len(last) == 0:
			return fmt.Sprintf("no answer within the trigger's timeout of %s: no server was ready (%s): %s", timeout, meta.Clip(sel.Desc.String(), 300), mongoDBWhere)
		case strings.Contains(cause, "tls: certificate required") || strings.Contains(cause, "tls: bad certificate") || strings.Contains(cause, "tls: unknown certificate authority"):
			// The server's alert: it asks for a client certificate, or refused the one sent.
			return "the server wants credentials, a client certificate it trusts: " + cause + ": put one its CA signed in the TriggerAuthentication parameters cert and key (tls: enable)"
		case strings.Contains(cause, "x509:") || strings.Contains(cause, "tls:"):
			return "TLS failed: " + cause + ": put the CA that signed the server's certificate in the TriggerAuthentication parameter ca (tls: enable), a client certificate in cert and key if the server asks for one, and check that the server serves TLS"
		}
		return "could not reach the server: " + cause + ": " + mongoDBWhere
	}
	msg := meta.Clip(err.Error(), 300)
	var se mongo.ServerError
	isServer := errors.As(err, &se)
	switch {
	case (isServer && se.HasErrorCode(mongoDBCodeAuthenticationFailed)) || strings.Contains(msg, "auth error"):
		return "MongoDB refused the credentials (" + msg + "): check username and password (or connectionString), and that the user is defined in the database it authenticates against (dbName, or the connection string's authSource)"
	case isServer && se.HasErrorCode(mongoDBCodeUnauthorized):
		// FerretDB and MongoDB with access control answer so without credentials too.
		return "MongoDB refused the command, not authorized (" + msg + "): give credentials (username and password, or in connectionString) of a user with a role that reads the collection (read on dbName)"
	case timedOut || mongo.IsTimeout(err):
		return fmt.Sprintf("no answer within the trigger's timeout of %s (%s): check that the server answers, and the query's cost (an index on the fields of metadata.query)", timeout, msg)
	case mongo.IsNetworkError(err):
		return "the connection to the server failed: " + msg + ": " + mongoDBWhere
	case isServer:
		return "MongoDB refused the query (" + msg + "): check metadata.query, a filter in MongoDB Extended JSON"
	}
	return msg
}
