// Command svc-fulfillment is Pasar's fulfillment service: it delivers paid order lines
// through a biller and tells the order service how each delivery went.
//
//	svc-fulfillment [serve] [--no-migrate]   apply migrations, then serve until SIGTERM (default)
//	svc-fulfillment migrate                  apply pending migrations and exit
//	svc-fulfillment health                   exit 0 when the running service says SERVING
//	                                         (the container's health check)
//
// Every expected start-up failure (a setting, named by its variable; a database that
// cannot be opened, reached or migrated, named by its URL with the password masked; an
// address that cannot be bound) ends the process with status 2 and one line on stderr,
// as the Python services' command line does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/healthcheck"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/server"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

const name = "svc-fulfillment"

// startupError is an expected failure: one line, status 2.
type startupError struct{ message string }

func (e *startupError) Error() string { return e.message }

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, environ []string, stdout, stderr io.Writer) int {
	command, noMigrate, err := parseArgs(args, stderr)
	if err != nil {
		return 2
	}
	env := config.NewEnv(environ)
	if command == "health" {
		if err := healthcheck.Check(context.Background(), env); err != nil {
			fmt.Fprintf(stderr, "%s: not healthy: %v\n", name, err)
			return 1
		}
		return 0
	}
	log := logging.New(stdout, name, env.String("PASAR_LOG_LEVEL", "info"), env.String("PASAR_LOG_FORMAT", "json"))
	err = execute(command, noMigrate, env, stdout, log)
	var configError *config.Error
	var urlError *database.URLError
	var listenError *server.ListenError
	var startup *startupError
	if errors.As(err, &configError) || errors.As(err, &urlError) || errors.As(err, &listenError) || errors.As(err, &startup) {
		fmt.Fprintf(stderr, "%s: %s\n", name, strings.Join(strings.Fields(err.Error()), " "))
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (string, bool, error) {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	flags := flag.NewFlagSet(name+" "+command, flag.ContinueOnError)
	flags.SetOutput(stderr)
	noMigrate := false
	switch command {
	case "serve":
		flags.BoolVar(&noMigrate, "no-migrate", false, "do not apply migrations first")
	case "migrate", "health":
	default:
		fmt.Fprintf(stderr, "usage: %s [serve [--no-migrate] | migrate | health]\n%s: unknown command %q\n", name, name, command)
		return "", false, errors.New("unknown command")
	}
	if err := flags.Parse(args); err != nil {
		return "", false, err
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %v\n", name, flags.Args())
		return "", false, errors.New("unexpected arguments")
	}
	return command, noMigrate, nil
}

func execute(command string, noMigrate bool, env config.Env, stdout io.Writer, log *slog.Logger) error {
	tracing := telemetry.Off()
	var databaseOptions []database.Option
	if command == "serve" {
		// Before the database opens: its driver is wrapped for spans then.
		var err error
		if tracing, err = telemetry.Configure(context.Background(), env, name, log); err != nil {
			return err
		}
		defer shutdownTracing(tracing, log)
		if tracing.On() {
			databaseOptions = append(databaseOptions, database.WithTracing(tracing.Provider()))
		}
	}
	db, err := database.Open(config.DatabaseURLFrom(env), databaseOptions...)
	if err != nil {
		var urlError *database.URLError
		if errors.As(err, &urlError) {
			return err
		}
		return &startupError{fmt.Sprintf("cannot open the database %s: %v", config.DatabaseURLFrom(env), err)}
	}
	defer db.Close()
	var settings *config.Settings
	if command == "serve" {
		// The whole configuration is read before the database is touched: a refused setting
		// must not leave a migrated database behind.
		if settings, err = config.Load(env); err != nil {
			return err
		}
		log = logging.New(stdout, name, settings.LogLevel, settings.LogFormat)
	}
	ctx := context.Background()
	if command == "migrate" || !noMigrate {
		if err := db.Ping(ctx); err != nil {
			return &startupError{fmt.Sprintf("cannot connect to the database %s: %v", db.Name, err)}
		}
		applied, err := db.Migrate(ctx)
		if err != nil {
			return &startupError{fmt.Sprintf("cannot migrate the database %s: %v", db.Name, err)}
		}
		if len(applied) > 0 {
			log.Info("migrated", "logger", "pasar.database", "versions", applied)
		}
	}
	if command == "migrate" {
		return nil
	}
	return serve(settings, db, log, tracing)
}

// tracingFlushTime bounds the export of the last spans at the end of the process.
const tracingFlushTime = 5 * time.Second

// shutdownTracing exports the spans still queued, so that the last ones are not lost.
func shutdownTracing(tracing *telemetry.Tracing, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTime)
	defer cancel()
	if err := tracing.Shutdown(ctx); err != nil {
		log.Warn("the last spans were not exported", "logger", "pasar.telemetry", "error", err.Error())
	}
}

// serve runs the server until SIGTERM or SIGINT, then stops it gracefully.
func serve(settings *config.Settings, db *database.DB, log *slog.Logger, tracing *telemetry.Tracing) error {
	srv, err := server.New(settings, db, log, tracing)
	if err != nil {
		return err
	}
	if _, err := srv.Start(); err != nil {
		srv.Stop() // its workers and its client of svc-product end with it
		return err
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	serveFailed := make(chan error, 1)
	go func() { serveFailed <- srv.Wait() }()
	select {
	case received := <-signals:
		log.Info("shutting down", "signal", signalName(received))
		srv.Stop()
		return nil
	case err := <-serveFailed:
		srv.Stop()
		return err
	}
}

// signalName is the signal as Python's signal.Signals names it (SIGTERM).
func signalName(s os.Signal) string {
	if s == syscall.SIGINT {
		return "SIGINT"
	}
	return "SIGTERM"
}
