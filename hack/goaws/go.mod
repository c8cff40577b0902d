// Tools module for the aws-sqs-queue scaler's tests: pins the goaws SQS emulator, which
// `hack/tools.sh goaws` builds into the tools cache. goaws's main package is app/cmd, so
// `go install` would name the binary "cmd"; building here names it goaws.
module github.com/kedactl/kedactl/hack/goaws

go 1.26.0

require github.com/Admiral-Piett/goaws v0.4.5

require (
	github.com/ghodss/yaml v1.0.0 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/sirupsen/logrus v1.9.0 // indirect
	golang.org/x/sys v0.5.0 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)
