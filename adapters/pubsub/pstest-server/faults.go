package main

// Ack fault injection: what pstest cannot do by itself. pstest acks every ack ID it is given, so
// a subscriber's handling of failed acks (exactly-once delivery: per-ack-ID failures reported in
// an ErrorInfo, transient ones to be retried) cannot be tested against it. With -control, the
// server takes rules over a small HTTP endpoint on 127.0.0.1:
//
//	POST   /faults    {"method": "Acknowledge", "times": 2, "code": "INVALID_ARGUMENT",
//	                   "reason": "TRANSIENT_FAILURE_UNORDERED_ACK_ID",
//	                   "subscription": "projects/p/subscriptions/s", "attributes": {"ce-id": "1"},
//	                   "deadline": 0}
//	GET    /faults    the rules, each with its "hits" and the "times" it has left
//	DELETE /faults    remove every rule
//	GET    /messages?topic=projects/p/topics/t
//	                  the messages published (to that topic): id, attributes, deliveries, acks
//
// A rule fails the next "times" calls of "method" (Acknowledge or ModifyAckDeadline) that carry
// at least one of its ack IDs: the ack IDs of messages that have every one of "attributes" (all
// of them without "attributes"), on "subscription" if given, with that ack deadline if
// "deadline" is given (ModifyAckDeadline). Without "reason" the whole call fails with the gRPC
// status "code". With "reason" the call fails the way Pub/Sub reports exactly-once ack failures:
// the status carries an ErrorInfo (reason EXACTLY_ONCE_ACKID_FAILURE) whose metadata maps each
// failed ack ID to "reason", and the call's other ack IDs are applied. Rules are tried in the
// order they were added. Without -control there is no endpoint and no rule: nothing is injected.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The ErrorInfo reason and domain Pub/Sub uses for per-ack-ID failures with exactly-once delivery.
const (
	exactlyOnceReason = "EXACTLY_ONCE_ACKID_FAILURE"
	pubsubDomain      = "pubsub.googleapis.com"
)

type rule struct {
	ID           int               `json:"id"`
	Method       string            `json:"method"`
	Times        int               `json:"times"`
	Code         string            `json:"code"`
	Reason       string            `json:"reason,omitempty"`
	Subscription string            `json:"subscription,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Deadline     *int32            `json:"deadline,omitempty"`
	Hits         int               `json:"hits"`
	code         codes.Code
}

func (r *rule) check() error {
	if r.Method != "Acknowledge" && r.Method != "ModifyAckDeadline" {
		return fmt.Errorf("method must be Acknowledge or ModifyAckDeadline, got %q", r.Method)
	}
	if r.Times < 1 {
		return fmt.Errorf("times must be at least 1, got %d", r.Times)
	}
	if err := r.code.UnmarshalJSON([]byte(`"` + r.Code + `"`)); err != nil || r.code == codes.OK {
		return fmt.Errorf("code must be a gRPC status code other than OK, got %q", r.Code)
	}
	if r.Deadline != nil && r.Method != "ModifyAckDeadline" {
		return fmt.Errorf("deadline only applies to ModifyAckDeadline")
	}
	r.Hits = 0
	return nil
}

// failure is the error of one failing call whose ack IDs `failed` failed.
func (r *rule) failure(failed []string) error {
	if r.Reason == "" {
		return status.Error(r.code, "injected by pstest-server")
	}
	metadata := make(map[string]string, len(failed))
	for _, id := range failed {
		metadata[id] = r.Reason
	}
	st, err := status.New(r.code, "Some acknowledgement ids in the request failed "+
		"(injected by pstest-server)").WithDetails(&errdetails.ErrorInfo{
		Reason: exactlyOnceReason, Domain: pubsubDomain, Metadata: metadata,
	})
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}

type faults struct {
	mu    sync.Mutex
	rules []*rule
	next  int
	fake  *pstest.Server
}

// parseAckID is pstest's: an ack ID is MESSAGE_ID:DELIVERY.
func parseAckID(ackID string) string {
	if i := strings.LastIndex(ackID, ":"); i >= 0 {
		return ackID[:i]
	}
	return ackID
}

// match finds the first live rule for the call and splits its ack IDs into failed and applied.
func (f *faults) match(method, sub string, deadline *int32, ids []string) (*rule, []string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.Times == 0 || r.Method != method {
			continue
		}
		if r.Subscription != "" && r.Subscription != sub {
			continue
		}
		if r.Deadline != nil && (deadline == nil || *deadline != *r.Deadline) {
			continue
		}
		var failed, applied []string
		for _, id := range ids {
			if f.selects(r, id) {
				failed = append(failed, id)
			} else {
				applied = append(applied, id)
			}
		}
		if len(failed) == 0 {
			continue
		}
		r.Times--
		r.Hits++
		return r, failed, applied
	}
	return nil, nil, nil
}

func (f *faults) selects(r *rule, ackID string) bool {
	if len(r.Attributes) == 0 {
		return true
	}
	m := f.fake.Message(parseAckID(ackID))
	if m == nil {
		return false
	}
	for key, value := range r.Attributes {
		if got, ok := m.Attributes[key]; !ok || got != value {
			return false
		}
	}
	return true
}

// intercept is the gRPC server's unary interceptor: calls no rule selects go to pstest as they are.
func (f *faults) intercept(
	ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler,
) (any, error) {
	var sub string
	var ids []string
	var deadline *int32
	switch r := req.(type) {
	case *pb.AcknowledgeRequest:
		sub, ids = r.Subscription, r.AckIds
	case *pb.ModifyAckDeadlineRequest:
		seconds := r.AckDeadlineSeconds
		sub, ids, deadline = r.Subscription, r.AckIds, &seconds
	default:
		return handler(ctx, req)
	}
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	r, failed, applied := f.match(method, sub, deadline, ids)
	if r == nil {
		return handler(ctx, req)
	}
	if r.Reason != "" && len(applied) > 0 { // per-ack-ID failure: the others are applied
		partial := proto.Clone(req.(proto.Message))
		switch p := partial.(type) {
		case *pb.AcknowledgeRequest:
			p.AckIds = applied
		case *pb.ModifyAckDeadlineRequest:
			p.AckIds = applied
		}
		if _, err := handler(ctx, partial); err != nil {
			return nil, err
		}
	}
	return nil, r.failure(failed)
}

type messageInfo struct {
	ID         string            `json:"id"`
	Topic      string            `json:"topic"`
	Attributes map[string]string `json:"attributes"`
	Deliveries int               `json:"deliveries"`
	Acks       int               `json:"acks"`
}

// ServeHTTP is the control endpoint.
func (f *faults) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/faults" && req.Method == http.MethodPost:
		var r rule
		decoder := json.NewDecoder(req.Body)
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&r); err != nil {
			http.Error(w, "bad rule: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := r.check(); err != nil {
			http.Error(w, "bad rule: "+err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.next++
		r.ID = f.next
		f.rules = append(f.rules, &r)
		f.mu.Unlock()
		writeJSON(w, &r)
	case req.URL.Path == "/faults" && req.Method == http.MethodGet:
		f.mu.Lock()
		rules := make([]rule, len(f.rules))
		for i, r := range f.rules {
			rules[i] = *r
		}
		f.mu.Unlock()
		writeJSON(w, rules)
	case req.URL.Path == "/faults" && req.Method == http.MethodDelete:
		f.mu.Lock()
		f.rules = nil
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case req.URL.Path == "/messages" && req.Method == http.MethodGet:
		topic := req.URL.Query().Get("topic")
		messages := []messageInfo{}
		for _, m := range f.fake.Messages() {
			if topic == "" || m.Topic == topic {
				messages = append(messages, messageInfo{m.ID, m.Topic, m.Attributes, m.Deliveries, m.Acks})
			}
		}
		writeJSON(w, messages)
	default:
		http.Error(w, "not found: "+req.Method+" "+req.URL.Path, http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}
