package main

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/config"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// newCommandLogger is the logger of a one-shot command (sync, review),
// whose output on stdout is for people or for a program reading --output
// json. Its logs go to w (stderr) whatever log.format says: one readable
// line an event when w is a terminal, where they show between the
// command's output; JSON lines otherwise, for whatever collects them. The
// level is log.level's.
func newCommandLogger(cfg config.Log, w io.Writer) zerolog.Logger {
	return commandLogger(cfg, w, isTerminal(w))
}

func commandLogger(cfg config.Log, w io.Writer, terminal bool) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	out := w
	if terminal {
		out = zerolog.ConsoleWriter{
			Out:        w,
			TimeFormat: time.TimeOnly,
			NoColor:    os.Getenv("NO_COLOR") != "",
			// One line an event: field values are quoted by the writer
			// when they hold line breaks, the message is not.
			FormatMessage: func(i any) string {
				s, _ := i.(string)
				return oneLine(s)
			},
		}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// oneLine folds the line breaks of s into spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
