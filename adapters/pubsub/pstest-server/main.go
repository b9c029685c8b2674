// Command pstest-server serves Google's in-memory Pub/Sub fake
// (cloud.google.com/go/pubsub/v2/pstest) over plaintext gRPC, for the eventbus-pubsub tests and
// benchmark.
//
// Usage:
//
//	pstest-server [-addr 127.0.0.1:0] [-stdin-eof] [-fail Method=CODE]...
//
// It prints "listening on HOST:PORT" once it accepts connections, then serves until SIGINT or
// SIGTERM (or, with -stdin-eof, until its standard input is closed: the parent died).
// -fail makes every call of a method fail with a gRPC status code, e.g. -fail
// Publish=PERMISSION_DENIED (pstest's error injection), to test error translation.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"
)

type failures []pstest.ServerReactorOption

func (f *failures) String() string { return fmt.Sprint(len(*f), " failure(s)") }

func (f *failures) Set(value string) error {
	method, name, ok := strings.Cut(value, "=")
	if !ok || method == "" {
		return fmt.Errorf("want Method=CODE, got %q", value)
	}
	var code codes.Code
	if err := code.UnmarshalJSON([]byte(`"` + name + `"`)); err != nil {
		return fmt.Errorf("unknown gRPC code %q: %v", name, err)
	}
	*f = append(*f, pstest.WithErrorInjection(method, code, "injected by pstest-server -fail"))
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "host:port to listen on (port 0 picks a free one)")
	stdinEOF := flag.Bool("stdin-eof", false, "exit when standard input is closed")
	var fail failures
	flag.Var(&fail, "fail", "Method=CODE: make every call of Method fail (repeatable)")
	flag.Parse()

	srv := pstest.NewServerWithAddress(*addr, fail...)
	defer srv.Close()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "listening on %s\n", srv.Addr)
	out.Flush()

	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGINT, syscall.SIGTERM)
	if *stdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			done <- syscall.SIGTERM
		}()
	}
	<-done
}
