package export

import (
	"encoding/csv"
	"io"
	"strings"
)

// BOM is the UTF-8 byte order mark. Excel on Windows reads a CSV file
// without it in the machine's ANSI code page, so "Côte d'Ivoire" would
// open as "CÃ´te d'Ivoire"; with it, Excel and every other reader that
// knows UTF-8 read the file right.
const BOM = "\uFEFF"

// CSVType is the media type of every CSV file pocdir serves.
const CSVType = "text/csv; charset=utf-8; header=present"

// CSV writes a CSV file as every CSV pocdir serves is written: UTF-8 with a
// byte order mark, CRLF line ends (RFC 4180, and what Excel writes), and
// cells that a spreadsheet would take for a formula neutralised (Neutralise).
// It is the one CSV writer of pocdir: the exports, the dashboard's figures
// and a check's results all go through it.
type CSV struct {
	out     io.Writer
	w       *csv.Writer
	started bool
	err     error
}

// NewCSV returns a CSV writer on w. The byte order mark is written with the
// first row.
func NewCSV(w io.Writer) *CSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSV{out: w, w: cw}
}

// Write writes one row, its cells neutralised. The row is not changed.
func (c *CSV) Write(row []string) error {
	if c.err != nil {
		return c.err
	}
	if !c.started {
		c.started = true
		if _, err := io.WriteString(c.out, BOM); err != nil {
			c.err = err
			return err
		}
	}
	safe := make([]string, len(row))
	for i, v := range row {
		safe[i] = Neutralise(v)
	}
	if err := c.w.Write(safe); err != nil {
		c.err = err
	}
	return c.err
}

// WriteAll writes the rows and flushes.
func (c *CSV) WriteAll(rows [][]string) error {
	for _, r := range rows {
		if err := c.Write(r); err != nil {
			return err
		}
	}
	return c.Flush()
}

// Flush writes what is buffered and returns the first error met.
func (c *CSV) Flush() error {
	if !c.started && c.err == nil {
		// An empty file still says it is UTF-8.
		c.started = true
		if _, err := io.WriteString(c.out, BOM); err != nil {
			c.err = err
		}
	}
	c.w.Flush()
	if c.err == nil {
		c.err = c.w.Error()
	}
	return c.err
}

// Neutralise keeps a spreadsheet from reading a cell as a formula (CSV
// injection, CWE-1236): a cell that starts with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe, as OWASP recommends. The
// apostrophe is the choice because spreadsheets treat it as "this is text"
// and a reader sees at once why it is there; it does show in Excel when the
// file is opened directly, and a program reading the file back strips it
// with strings.TrimPrefix(cell, "'") when the next character is one of
// these. Phone numbers ("+41 22 …") are the common case in pocdir's files.
func Neutralise(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
