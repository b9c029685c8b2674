// Request-reply the way any service answers eventbus, reading and setting only the documented
// CloudEvents attributes (docs/request-reply.md): a request's "replyto" (where to answer) and
// "correlationid"; a reply's "correlationid" (copied) and "causationid" (the request's id).
// Core NATS only, through sdk-go's protocol/nats/v2 (structured mode).
//
// "respond": listen on "address", answer ready, take one request and send the reply to its
// replyto subject; answers with the request as read. "request": listen on a fresh inbox, send
// "event" to "address" with replyto = the inbox, correlationid = its id (unless set) and
// expirytime, then wait for the message whose causationid is the request's id; answers with it.
package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	cenats "github.com/cloudevents/sdk-go/protocol/nats/v2"
	ce "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/nats-io/nats.go"
)

func extension(e *ce.Event, name string) (string, error) {
	v, ok := e.Extensions()[name]
	if !ok {
		return "", fmt.Errorf("the event has no %q attribute", name)
	}
	return types.ToString(v)
}

func sendNats(ctx context.Context, conn *nats.Conn, subject string, event *ce.Event) error {
	sender, err := cenats.NewSenderFromConn(conn, subject)
	if err != nil {
		return err
	}
	if err := sender.Send(binding.WithForceStructured(ctx), binding.ToMessage(event)); err != nil {
		return err
	}
	return conn.Flush()
}

func respond(ctx context.Context, r request) (*wireEvent, error) {
	conn, err := natsConn(r.URL)
	if err != nil {
		return nil, err
	}
	sub, err := conn.SubscribeSync(r.Address)
	if err == nil {
		err = conn.Flush()
	}
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	answer(reply{ID: r.ID, Ready: true})
	nm, err := sub.NextMsgWithContext(ctx)
	if err != nil {
		return nil, err
	}
	req, err := binding.ToEvent(ctx, cenats.NewMessage(nm))
	if err != nil {
		return nil, err
	}
	replyTo, err := extension(req, "replyto")
	if err != nil {
		return nil, err
	}
	correlation, err := extension(req, "correlationid")
	if err != nil {
		return nil, err
	}
	out := ce.NewEvent()
	out.SetID("go-reply-" + strconv.FormatInt(time.Now().UnixNano(), 36))
	out.SetSource("/interop/go")
	out.SetType(req.Type() + ".reply")
	out.SetExtension("correlationid", correlation)
	out.SetExtension("causationid", req.ID())
	if err := out.SetData(ce.ApplicationJSON, map[string]interface{}{"answered": req.ID()}); err != nil {
		return nil, err
	}
	if err := sendNats(ctx, conn, replyTo, &out); err != nil {
		return nil, err
	}
	return fromSDK(req)
}

func requestReply(ctx context.Context, r request) (*wireEvent, error) {
	conn, err := natsConn(r.URL)
	if err != nil {
		return nil, err
	}
	event, err := toSDK(r.Event)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	inbox := nats.NewInbox()
	sub, err := conn.SubscribeSync(inbox)
	if err == nil {
		err = conn.Flush() // the reply listener exists before the request is sent
	}
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	event.SetExtension("replyto", inbox)
	if _, ok := event.Extensions()["correlationid"]; !ok {
		event.SetExtension("correlationid", event.ID())
	}
	deadline, _ := ctx.Deadline()
	event.SetExtension("expirytime", types.Timestamp{Time: deadline.UTC()})
	if err := sendNats(ctx, conn, r.Address, &event); err != nil {
		return nil, err
	}
	for {
		nm, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, err
		}
		got, err := binding.ToEvent(ctx, cenats.NewMessage(nm))
		if err != nil {
			return nil, err
		}
		if cause, _ := extension(got, "causationid"); cause == event.ID() {
			return fromSDK(got)
		}
	}
}
