package rabbitmq

import "github.com/kedactl/kedactl/test/servers/internal/testca"

// TLSFiles are the PEM texts of the server's own CA and of a client certificate that CA signed,
// as a TriggerAuthentication would hold them (parameters ca, cert and key).
type TLSFiles = testca.Files
