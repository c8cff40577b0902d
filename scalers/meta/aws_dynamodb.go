package meta

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AWSDynamoDBMetadata is the aws-dynamodb trigger's metadata, with KEDA's parameter names: the
// value is the number of items a Query of the table (or its index) matches.
type AWSDynamoDBMetadata struct {
	TableName                 string `keda:"name=tableName, order=triggerMetadata"`
	KeyConditionExpression    string `keda:"name=keyConditionExpression, order=triggerMetadata"`
	IndexName                 string `keda:"name=indexName, order=triggerMetadata, optional"`
	TargetValue               int64  `keda:"name=targetValue, order=triggerMetadata, optional, default=-1"`
	ActivationTargetValue     int64  `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	FilterExpression          string `keda:"name=filterExpression, order=triggerMetadata, optional"`
	ExpressionAttributeNames  string `keda:"name=expressionAttributeNames, order=triggerMetadata"`
	ExpressionAttributeValues string `keda:"name=expressionAttributeValues, order=triggerMetadata"`
	AWSAuth

	MetricSource

	// Set by Validate.
	Names  map[string]string
	Values map[string]DynamoValue
}

// DynamoValue is one of expressionAttributeValues' values in DynamoDB's JSON form ({"S": "x"},
// {"N": "1"}, {"BOOL": true}, {"B": "..."}, {"NULL": true}, {"L": [...]}, {"M": {...}}): Type is
// the key, and the matching field holds the value.
type DynamoValue struct {
	Type string
	S    string // S, N and B (B's bytes are the string's, as KEDA reads them)
	Bool bool
	L    []DynamoValue
	M    map[string]DynamoValue
}

// Validate checks what the metadata alone decides.
func (m *AWSDynamoDBMetadata) Validate() error {
	if strings.TrimSpace(m.TableName) == "" {
		return &ParamError{Param: "tableName", Problem: "is empty", Fix: "name the DynamoDB table"}
	}
	if strings.TrimSpace(m.KeyConditionExpression) == "" {
		return &ParamError{Param: "keyConditionExpression", Problem: "is empty", Fix: "give the Query's key condition, such as #k = :v"}
	}
	switch {
	case m.TargetValue == -1 && m.AsMetricSource():
		// As KEDA: a metric source of scalingModifiers needs no target.
		m.TargetValue = 0
	case m.TargetValue < 1:
		return &ParamError{Param: "targetValue", Problem: targetProblem(m.TargetValue),
			Fix: "set it to at least 1: it is the number of matching items per replica the HPA aims at"}
	}
	var err error
	if m.Names, err = dynamoNames(m.ExpressionAttributeNames); err != nil {
		return err
	}
	if m.Values, err = dynamoValues(m.ExpressionAttributeValues); err != nil {
		return err
	}
	return m.CheckEndpoint()
}

func targetProblem(v int64) string {
	if v == -1 {
		return "is not set"
	}
	return fmt.Sprintf("is %d", v)
}

// dynamoNames reads expressionAttributeNames, a JSON object of placeholders and names.
func dynamoNames(raw string) (map[string]string, error) {
	var names map[string]string
	if err := json.Unmarshal([]byte(raw), &names); err != nil {
		return nil, &ParamError{Param: "expressionAttributeNames", Problem: "is not a JSON object of strings: " + Clip(err.Error(), 100),
			Fix: `use the Query's placeholders and attribute names, such as {"#k": "status"}`}
	}
	if len(names) == 0 {
		return nil, &ParamError{Param: "expressionAttributeNames", Problem: "is empty", Fix: `name at least one attribute, such as {"#k": "status"}`}
	}
	return names, nil
}

// dynamoValues reads expressionAttributeValues, a JSON object of placeholders and DynamoDB
// values.
func dynamoValues(raw string) (map[string]DynamoValue, error) {
	var values map[string]any
	if err := json.Unmarshal([]byte(raw), &values); err != nil {
		return nil, &ParamError{Param: "expressionAttributeValues", Problem: "is not a JSON object: " + Clip(err.Error(), 100),
			Fix: `use the Query's placeholders and values in DynamoDB's JSON form, such as {":v": {"S": "pending"}}`}
	}
	if len(values) == 0 {
		return nil, &ParamError{Param: "expressionAttributeValues", Problem: "is empty", Fix: `give at least one value, such as {":v": {"S": "pending"}}`}
	}
	out := make(map[string]DynamoValue, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v, err := dynamoValue(values[k], 0)
		if err != nil {
			return nil, &ParamError{Param: "expressionAttributeValues", Problem: fmt.Sprintf("%s: %v", Clip(k, 50), err),
				Fix: `each value is an object of one type and its value: {"S": "x"}, {"N": "1"}, {"BOOL": true}, {"B": "x"}, {"NULL": true}, {"L": [...]} or {"M": {...}}`}
		}
		out[k] = v
	}
	return out, nil
}

// dynamoMaxDepth bounds nested L and M values (DynamoDB allows 32 levels).
const dynamoMaxDepth = 32

func dynamoValue(raw any, depth int) (DynamoValue, error) {
	if depth > dynamoMaxDepth {
		return DynamoValue{}, fmt.Errorf("is nested deeper than %d levels", dynamoMaxDepth)
	}
	obj, ok := raw.(map[string]any)
	if !ok || len(obj) != 1 {
		return DynamoValue{}, fmt.Errorf("is not an object of one type")
	}
	var typ string
	var val any
	for typ, val = range obj {
	}
	v := DynamoValue{Type: typ}
	switch typ {
	case "S", "N", "B":
		s, ok := val.(string)
		if !ok {
			return v, fmt.Errorf("%s needs a string", typ)
		}
		v.S = s
	case "BOOL", "NULL":
		b, ok := val.(bool)
		if !ok {
			return v, fmt.Errorf("%s needs true or false", typ)
		}
		v.Bool = b
	case "L":
		list, ok := val.([]any)
		if !ok {
			return v, fmt.Errorf("L needs a list")
		}
		v.L = make([]DynamoValue, len(list))
		for i, item := range list {
			var err error
			if v.L[i], err = dynamoValue(item, depth+1); err != nil {
				return v, fmt.Errorf("L[%d] %w", i, err)
			}
		}
	case "M":
		m, ok := val.(map[string]any)
		if !ok {
			return v, fmt.Errorf("M needs an object")
		}
		v.M = make(map[string]DynamoValue, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			item, err := dynamoValue(m[k], depth+1)
			if err != nil {
				return v, fmt.Errorf("M.%s %w", Clip(k, 50), err)
			}
			v.M[k] = item
		}
	default:
		return v, fmt.Errorf("has the type %s, not one of S, N, B, BOOL, NULL, L, M", Quote(typ, 20))
	}
	return v, nil
}
