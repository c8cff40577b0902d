package scalers

import (
	"reflect"
	"testing"

	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseAWSDynamoDBMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"tableName": "jobs", "awsRegion": "eu-west-1", "keyConditionExpression": "#k = :v", "targetValue": "3",
			"expressionAttributeNames": `{"#k": "queue"}`, "expressionAttributeValues": `{":v": {"S": "q1"}}`}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
			if extra[i+1] == "" {
				delete(m, extra[i])
			}
		}
		return m
	}
	keys := map[string]string{"awsAccessKeyID": "AKIDEXAMPLE", "awsSecretAccessKey": "dynamo-secret"}
	tests := []parseCase[meta.AWSDynamoDBMetadata]{
		{name: "defaults", meta: base(), auth: keys, check: func(t *testing.T, m *meta.AWSDynamoDBMetadata) {
			if m.TargetValue != 3 || m.ActivationTargetValue != 0 || m.IndexName != "" || m.Names["#k"] != "queue" || m.Values[":v"].S != "q1" || m.Creds.AccessKeyID != "AKIDEXAMPLE" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "every value type", meta: base("expressionAttributeValues",
			`{":s": {"S": "x"}, ":n": {"N": "1.5"}, ":b": {"B": "raw"}, ":t": {"BOOL": true}, ":z": {"NULL": true}, ":l": {"L": [{"S": "a"}, {"N": "2"}]}, ":m": {"M": {"k": {"BOOL": false}}}}`,
			"indexName", "by-state", "filterExpression", "#k <> :s", "activationTargetValue", "2"), auth: keys,
			check: func(t *testing.T, m *meta.AWSDynamoDBMetadata) {
				want := map[string]meta.DynamoValue{":s": {Type: "S", S: "x"}, ":n": {Type: "N", S: "1.5"}, ":b": {Type: "B", S: "raw"}, ":t": {Type: "BOOL", Bool: true},
					":z": {Type: "NULL", Bool: true}, ":l": {Type: "L", L: []meta.DynamoValue{{Type: "S", S: "a"}, {Type: "N", S: "2"}}},
					":m": {Type: "M", M: map[string]meta.DynamoValue{"k": {Type: "BOOL"}}}}
				if !reflect.DeepEqual(m.Values, want) || m.IndexName != "by-state" || m.ActivationTargetValue != 2 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "no targetValue", meta: base("targetValue", ""), auth: keys, wantErr: []string{"trigger 0 (aws-dynamodb)", "metadata.targetValue", "is not set"}},
		{name: "targetValue 0", meta: base("targetValue", "0"), auth: keys, wantErr: []string{"metadata.targetValue", "is 0"}},
		{name: "missing tableName", meta: base("tableName", ""), auth: keys, wantErr: []string{"metadata.tableName"}},
		{name: "missing keyConditionExpression", meta: base("keyConditionExpression", ""), auth: keys, wantErr: []string{"metadata.keyConditionExpression"}},
		{name: "missing expressionAttributeNames", meta: base("expressionAttributeNames", ""), auth: keys, wantErr: []string{"metadata.expressionAttributeNames"}},
		{name: "empty expressionAttributeNames", meta: base("expressionAttributeNames", "{}"), auth: keys, wantErr: []string{"metadata.expressionAttributeNames", "is empty"}},
		{name: "names not strings", meta: base("expressionAttributeNames", `{"#k": 1}`), auth: keys, wantErr: []string{"metadata.expressionAttributeNames", "JSON object of strings"}},
		{name: "values not JSON", meta: base("expressionAttributeValues", `{":v": `), auth: keys, wantErr: []string{"metadata.expressionAttributeValues", "not a JSON object"}},
		{name: "N as a number", meta: base("expressionAttributeValues", `{":v": {"N": 1}}`), auth: keys, wantErr: []string{"metadata.expressionAttributeValues", ":v: N needs a string"}},
		{name: "a set type", meta: base("expressionAttributeValues", `{":v": {"SS": ["a"]}}`), auth: keys, wantErr: []string{"metadata.expressionAttributeValues", `"SS"`}},
		{name: "two types", meta: base("expressionAttributeValues", `{":v": {"S": "a", "N": "1"}}`), auth: keys, wantErr: []string{"metadata.expressionAttributeValues", "one type"}},
		{name: "a bad list item", meta: base("expressionAttributeValues", `{":v": {"L": [{"S": "a"}, "b"]}}`), auth: keys, wantErr: []string{"L[1]"}},
		{name: "no credentials", meta: base(), wantErr: []string{"awsAccessKeyID", "no AWS credentials"}},
	}
	runParseCases(t, "aws-dynamodb", tests, "dynamo-secret")

	// As KEDA, a metric source of scalingModifiers needs no targetValue.
	noTarget := base("targetValue", "")
	var m meta.AWSDynamoDBMetadata
	if err := ParseMetadata(&Config{TriggerType: "aws-dynamodb", TriggerMetadata: noTarget, AuthParams: keys, AsMetricSource: true}, &m); err != nil || m.TargetValue != 0 {
		t.Errorf("a metric source without targetValue: %v, target %d", err, m.TargetValue)
	}
}

func TestDynamoQueryInput(t *testing.T) {
	m := &meta.AWSDynamoDBMetadata{TableName: "jobs", KeyConditionExpression: "#k = :v", IndexName: "by-state", FilterExpression: "#k <> :n",
		Names: map[string]string{"#k": "state"},
		Values: map[string]meta.DynamoValue{":v": {Type: "S", S: "pending"}, ":b": {Type: "B", S: "raw"},
			":l": {Type: "L", L: []meta.DynamoValue{{Type: "N", S: "1"}, {Type: "M", M: map[string]meta.DynamoValue{"z": {Type: "NULL", Bool: true}}}}}}}
	in := dynamoQueryInput(m)
	want := map[string]dynamotypes.AttributeValue{
		":v": &dynamotypes.AttributeValueMemberS{Value: "pending"},
		":b": &dynamotypes.AttributeValueMemberB{Value: []byte("raw")},
		":l": &dynamotypes.AttributeValueMemberL{Value: []dynamotypes.AttributeValue{&dynamotypes.AttributeValueMemberN{Value: "1"},
			&dynamotypes.AttributeValueMemberM{Value: map[string]dynamotypes.AttributeValue{"z": &dynamotypes.AttributeValueMemberNULL{Value: true}}}}},
	}
	if !reflect.DeepEqual(in.ExpressionAttributeValues, want) || *in.IndexName != "by-state" || *in.FilterExpression != "#k <> :n" ||
		in.Select != dynamotypes.SelectCount || *in.TableName != "jobs" || in.ExpressionAttributeNames["#k"] != "state" {
		t.Errorf("input %+v", in)
	}
	if in := dynamoQueryInput(&meta.AWSDynamoDBMetadata{TableName: "t"}); in.IndexName != nil || in.FilterExpression != nil {
		t.Errorf("optional fields set: %+v", in)
	}
}
