package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"
)

// The files in testdata are raw messages as mail clients and servers write
// them (CRLF line endings, except bare-lf.eml). The PGP ones were made with
// gpg and the key whose public half is testdata/poc-public.asc.

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParse(t *testing.T) {
	type att struct {
		Name, ContentType string
		Size              int
	}
	tests := []struct {
		name string
		file string

		err        error // wanted error (errors.Is); the other fields are not checked then
		messageID  string
		from       string
		subject    string
		inReplyTo  string
		recipients []string
		date       string // RFC 3339
		autoWhy    string
		dsn        *DSN
		failed     []bool // DSNRecipient.Failed, one per recipient
		text       string // exact, unless textPrefix
		textPrefix bool
		stripped   string // StripQuoted(Text)
		atts       []att
		signed     bool
		encrypted  bool
		clear      bool
	}{
		{
			name:       "a Thunderbird reply in format=flowed has its lines joined and its French quote stripped",
			file:       "thunderbird-flowed-fr.eml",
			messageID:  "3f1a2b7c-9d4e-4c1a-8f2b-1e5d6c7a8b9c@cert.example.fr",
			from:       "marie.dubois@cert.example.fr",
			subject:    "Re: [pocdir] Vérification de la communication Q1 2024",
			inReplyTo:  "outbox-42.1710231330@pocdir.example.org",
			recipients: []string{"reply+k7q2m9x4c1v8b3n6@reply.pocdir.example.org"},
			date:       "2024-03-12T10:42:17+01:00",
			text: "Le 12/03/2024 à 09:15, pocdir a écrit\u00a0:\n> Madame, Monsieur,\n>\n" +
				"> Merci de confirmer la réception de ce message en répondant à ce courriel avant le 26 mars.\n>\n> -- \n> pocdir\n\n" +
				"Bonjour,\n\nNous accusons réception de votre message et confirmons que ce point de contact est toujours joignable.\n\n" +
				"Cordialement,\n\n-- \nMarie Dubois\nCERT-FR\n",
			stripped: "Bonjour,\n\nNous accusons réception de votre message et confirmons que ce point de contact est toujours joignable.\n\nCordialement,",
		},
		{
			name:       "an Outlook reply loses the original message below its -----Original Message----- line",
			file:       "outlook-original-message.eml",
			messageID:  "DB9PR01MB7354A1B2C3D4E5F6A7B8C9D0E1F2A@DB9PR01MB7354.eurprd01.prod.outlook.example",
			from:       "John.Smith@csirt.example.gov",
			subject:    "RE: [pocdir] Communication check Q1 2024",
			inReplyTo:  "outbox-42.1710231330@pocdir.example.org",
			recipients: []string{"reply+z8x7c6v5b4n3m2l1@reply.pocdir.example.org", "jane.doe@csirt.example.gov"},
			date:       "2024-03-12T11:02:41Z",
			text:       "Dear pocdir team,\n\nWe’ve checked our details: the point of contact is correct.\n\nBest regards,\n",
			textPrefix: true,
			stripped:   "Dear pocdir team,\n\nWe’ve checked our details: the point of contact is correct.\n\nBest regards,\nJohn Smith\nNational CSIRT",
		},
		{
			name:       "a Gmail reply's base64 ISO-8859-1 text is preferred to its HTML and its wrapped Spanish attribution is stripped",
			file:       "gmail-latin1-base64.eml",
			messageID:  "CAF+9kq1pN3vX8yZ0b4wQz_7eXjR2mT5sHc1Lg6uV@mail.gmail.example",
			from:       "juan.garcia@csirt.example.es",
			subject:    "Re: [pocdir] Comprobación de la comunicación",
			inReplyTo:  "outbox-44.1710231330@pocdir.example.org",
			recipients: []string{"reply+q1w2e3r4t5y6u7i8@reply.pocdir.example.org"},
			date:       "2024-03-12T12:09:58+01:00",
			text: "Hola,\n\nConfirmamos la recepción del mensaje. El punto de contacto sigue siendo válido.\n\nSaludos,\nJuan García\n\n" +
				"El mar, 12 mar 2024 a las 9:15, pocdir (<notifications@pocdir.example.org>)\nescribió:\n\n" +
				"> Estimado punto de contacto:\n>\n> Por favor, confirme la recepción de este mensaje.\n>\n",
			stripped: "Hola,\n\nConfirmamos la recepción del mensaje. El punto de contacto sigue siendo válido.\n\nSaludos,\nJuan García",
		},
		{
			name:       "attachments keep their RFC 2231 and RFC 2047 names and their exact bytes",
			file:       "attachment-pdf-rfc2231.eml",
			messageID:  "20240313083000.GA1234@cert.example.be",
			from:       "cert@cert.example.be",
			subject:    "Re: [pocdir] Demande d'information",
			inReplyTo:  "outbox-45.1710231330@pocdir.example.org",
			recipients: []string{"reply+a1s2d3f4g5h6j7k8@reply.pocdir.example.org"},
			date:       "2024-03-13T08:30:00+01:00",
			text:       "Bonjour,\n\nVeuillez trouver ci-joint notre réponse.\n\nCordialement\n",
			stripped:   "Bonjour,\n\nVeuillez trouver ci-joint notre réponse.\n\nCordialement",
			atts: []att{
				{"Réponse à la notification n°42.pdf", "application/pdf", 142},
				{"Procédure.txt", "text/plain", 49},
				{"Capture d’écran.png", "image/png", 67},
			},
		},
		{
			name:       "a Gmail vacation responder is automatic by its Auto-Submitted field",
			file:       "gmail-vacation.eml",
			messageID:  "CAPnV7xL1q9Gv2mZ8wE4tR6yU0iO3pA5sD7fG9hJ@mail.gmail.example",
			from:       "pieter@ncsc.example.nl",
			subject:    "Re: [pocdir] Communication check Q1 2024",
			inReplyTo:  "outbox-46.1710231330@pocdir.example.org",
			recipients: []string{"reply+p0o9i8u7y6t5r4e3@reply.pocdir.example.org"},
			date:       "2024-03-12T09:15:38+01:00",
			autoWhy:    "Auto-Submitted",
			text:       "I am on leave until 25 March. For anything urgent, please write to\nsoc@ncsc.example.nl.\n",
			stripped:   "I am on leave until 25 March. For anything urgent, please write to\nsoc@ncsc.example.nl.",
		},
		{
			name:       "an Exchange out-of-office is automatic by its X-Auto-Response-Suppress field",
			file:       "exchange-oof.eml",
			messageID:  "b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6e@AS8PR01MB9876.eurprd01.prod.outlook.example",
			from:       "Anna.Kowalska@cert.example.pl",
			subject:    "Automatic reply: [pocdir] Communication check Q1 2024",
			inReplyTo:  "outbox-47.1710231330@pocdir.example.org",
			recipients: []string{"reply+m1n2b3v4c5x6z7a8@reply.pocdir.example.org"},
			date:       "2024-03-12T08:16:00Z",
			autoWhy:    "X-Auto-Response-Suppress",
			text:       "Jestem poza biurem do 20 marca.\nI am out of the office until 20 March.\n",
			stripped:   "Jestem poza biurem do 20 marca.\nI am out of the office until 20 March.",
		},
		{
			name:       "a Postfix bounce is a DSN whose recipient failed with 5.1.1",
			file:       "postfix-dsn.eml",
			messageID:  "20240312081532.4Tv9QX1Zq4z9sW@mx.pocdir.example.org",
			from:       "MAILER-DAEMON@mx.pocdir.example.org",
			subject:    "Undelivered Mail Returned to Sender",
			recipients: []string{"reply+bounce-42@reply.pocdir.example.org"},
			date:       "2024-03-12T09:15:32+01:00",
			autoWhy:    "Auto-Submitted",
			dsn: &DSN{
				OriginalMessageID: "outbox-42.1710231330@pocdir.example.org",
				EnvelopeID:        "outbox-42",
				Recipients: []DSNRecipient{{
					FinalRecipient:    "poc@cert.example.lu",
					OriginalRecipient: "poc@cert.example.lu",
					Action:            "failed",
					Status:            "5.1.1",
					Diagnostic:        "550 5.1.1 <poc@cert.example.lu>: Recipient address rejected: User unknown in virtual mailbox table",
				}},
			},
			failed:     []bool{true},
			text:       "This is the mail system at host mx.pocdir.example.org.\n\n",
			textPrefix: true,
		},
		{
			name:       "an Exchange bounce returning the whole message is a DSN though nothing else marks it automatic",
			file:       "exchange-dsn.eml",
			messageID:  "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d@AM0PR01MB1234.eurprd01.prod.exchangelabs.example",
			from:       "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@ministry.example.gov",
			subject:    "Undeliverable: [pocdir] Communication check Q1 2024",
			inReplyTo:  "outbox-43.1710231330@pocdir.example.org",
			recipients: []string{"reply+bounce-43@reply.pocdir.example.org"},
			date:       "2024-03-12T08:15:40Z",
			dsn: &DSN{
				OriginalMessageID: "outbox-43.1710231330@pocdir.example.org",
				Recipients: []DSNRecipient{{
					FinalRecipient: "poc@ministry.example.gov",
					Action:         "failed",
					Status:         "5.1.10",
					Diagnostic:     "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
				}},
			},
			failed:     []bool{true},
			text:       "Your message to poc@ministry.example.gov couldn't be delivered.\n\npoc wasn't found at ministry.example.gov.\n",
			textPrefix: true,
		},
		{
			name:       "a delayed DSN with status 4.4.1 is not a failure",
			file:       "delayed-dsn.eml",
			messageID:  "20240312121532.4TvF0r5Nq6z9sQ@mx.pocdir.example.org",
			from:       "MAILER-DAEMON@mx.pocdir.example.org",
			subject:    "Delayed Mail (still being retried)",
			recipients: []string{"reply+bounce-48@reply.pocdir.example.org"},
			date:       "2024-03-12T13:15:32+01:00",
			autoWhy:    "Auto-Submitted",
			dsn: &DSN{
				OriginalMessageID: "outbox-48.1710231330@pocdir.example.org",
				Recipients: []DSNRecipient{{
					FinalRecipient:    "poc@csirt.example.mt",
					OriginalRecipient: "poc@csirt.example.mt",
					Action:            "delayed",
					Status:            "4.4.1",
					Diagnostic:        "connect to mx.csirt.example.mt[192.0.2.77]:25: Connection timed out",
				}},
			},
			failed:     []bool{false},
			text:       "This is the mail system at host mx.pocdir.example.org.\n",
			textPrefix: true,
		},
		{
			name:       "a PGP/MIME signed message gives its signed part and signature, and its text from inside",
			file:       "pgp-signed.eml",
			messageID:  "5e6f7a8b-signed@cert.example.org",
			from:       "poc@example.org",
			subject:    "Re: [pocdir] Communication check Q1 2024",
			inReplyTo:  "outbox-51.1710231330@pocdir.example.org",
			recipients: []string{"reply+s1g2n3e4d5m6i7m8@reply.pocdir.example.org"},
			date:       "2024-03-13T10:00:00+01:00",
			text:       "Bonjour,\n\nNous confirmons la réception.\nLe point de contact reste inchangé.\n\n-- \nCERT\n",
			stripped:   "Bonjour,\n\nNous confirmons la réception.\nLe point de contact reste inchangé.",
			signed:     true,
		},
		{
			name:       "a PGP/MIME encrypted message gives its armored message and no text",
			file:       "pgp-encrypted.eml",
			messageID:  "6f7a8b9c-encrypted@cert.example.org",
			from:       "poc@example.org",
			subject:    "...",
			inReplyTo:  "outbox-52.1710231330@pocdir.example.org",
			recipients: []string{"reply+e1n2c3r4y5p6t7e8@reply.pocdir.example.org"},
			date:       "2024-03-13T10:05:00+01:00",
			encrypted:  true,
		},
		{
			name:       "an inline clear-signed message gives the armored block and the dash-unescaped text inside it",
			file:       "inline-clearsigned.eml",
			messageID:  "7a8b9c0d-clearsigned@csirt.example.org",
			from:       "poc@example.org",
			subject:    "Re: [pocdir] Communication check Q1 2024",
			recipients: []string{"reply+c1l2e3a4r5s6i7g8@reply.pocdir.example.org"},
			date:       "2024-03-13T10:10:00+01:00",
			text:       "Hello,\n\nWe confirm receipt. Our checklist:\n- contact details checked\n- key renewed\n\nRegards,\nCSIRT",
			stripped:   "Hello,\n\nWe confirm receipt. Our checklist:\n- contact details checked\n- key renewed\n\nRegards,\nCSIRT",
			clear:      true,
		},
		{
			name:       "an inline encrypted text gives its armored message and no text",
			file:       "inline-encrypted.eml",
			messageID:  "8b9c0d1e-inline-encrypted@csirt.example.org",
			from:       "poc@example.org",
			subject:    "Re: [pocdir] Communication check Q1 2024",
			recipients: []string{"reply+i1n2l3i4n5e6e7n8@reply.pocdir.example.org"},
			date:       "2024-03-13T10:15:00+01:00",
			encrypted:  true,
		},
		{
			name:       "an Arabic reply in base64 UTF-8 loses Gmail's attribution with its direction marks",
			file:       "arabic-utf8-base64.eml",
			messageID:  "CAH7yQ2m9Xk1L8vB3nZ4cT6wR0eU5iO7pA2sD4fG@mail.gmail.example",
			from:       "cert@cert.example.ae",
			subject:    "رد: [pocdir] التحقق من الاتصال",
			inReplyTo:  "outbox-49.1710231330@pocdir.example.org",
			recipients: []string{"reply+h1g2f3d4s5a6p7o8@reply.pocdir.example.org"},
			date:       "2024-03-12T13:00:05+04:00",
			text:       "السلام عليكم،\n\nنؤكد استلام رسالتكم، ونقطة الاتصال ما زالت صالحة.\n\n",
			textPrefix: true,
			stripped:   "السلام عليكم،\n\nنؤكد استلام رسالتكم، ونقطة الاتصال ما زالت صالحة.\n\nمع التحية،\nفريق الاستجابة للطوارئ",
		},
		{
			name:       "a Russian reply in quoted-printable KOI8-R is decoded, subject included",
			file:       "russian-koi8r-qp.eml",
			messageID:  "1710231600.123456@cert.example.ru",
			from:       "ivan.petrov@cert.example.ru",
			subject:    "Re: [pocdir] Проверка связи",
			inReplyTo:  "outbox-50.1710231330@pocdir.example.org",
			recipients: []string{"reply+r5t6y7u8i9o0p1a2@reply.pocdir.example.org"},
			date:       "2024-03-12T11:20:00+03:00",
			text:       "Здравствуйте!\n\nПодтверждаем получение сообщения. Контактное лицо прежнее.\n\n",
			textPrefix: true,
			stripped:   "Здравствуйте!\n\nПодтверждаем получение сообщения. Контактное лицо прежнее.\n\nС уважением,\nИван Петров",
		},
		{
			name: "garbage is refused as malformed",
			file: "garbage.eml",
			err:  ErrMalformed,
		},
		{
			name: "a message of 60 parts is refused as too complex",
			file: "sixty-parts.eml",
			err:  ErrTooComplex,
		},
		{
			name:       "a message with bare LF line endings and an mbox From line is read as one with CRLF",
			file:       "bare-lf.eml",
			messageID:  "lf-only.1@csirt.example.at",
			from:       "csirt@csirt.example.at",
			subject:    "Re: [pocdir] Updated contact list",
			recipients: []string{"reply+l1k2j3h4g5f6d7s8@reply.pocdir.example.org"},
			date:       "2024-03-12T14:00:00+01:00",
			text:       "Hello,\n\nthe updated list is attached.\n",
			stripped:   "Hello,\n\nthe updated list is attached.",
			atts:       []att{{"contacts.csv", "text/csv", 35}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(readTestdata(t, tt.file), Limits{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("got error %v, want %v (wrapping ErrMalformed)", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check := func(field string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %q, want %q", field, got, want)
				}
			}
			check("MessageID", m.MessageID, tt.messageID)
			check("From", m.From, tt.from)
			check("Subject", m.Subject, tt.subject)
			check("InReplyTo", m.InReplyTo, tt.inReplyTo)
			check("Recipients", m.Recipients, tt.recipients)
			check("Date", m.Date.Format(time.RFC3339), tt.date)
			check("Auto", m.Auto, tt.autoWhy != "")
			check("AutoWhy", m.AutoWhy, tt.autoWhy)
			if tt.textPrefix {
				if !strings.HasPrefix(m.Text, tt.text) {
					t.Errorf("Text: got %q, want it to begin with %q", m.Text, tt.text)
				}
			} else {
				check("Text", m.Text, tt.text)
			}
			if tt.stripped != "" {
				check("StripQuoted(Text)", StripQuoted(m.Text), tt.stripped)
			}
			if !reflect.DeepEqual(m.DSN, tt.dsn) {
				t.Errorf("DSN: got %+v, want %+v", m.DSN, tt.dsn)
			}
			if m.DSN != nil {
				var failed []bool
				for _, r := range m.DSN.Recipients {
					failed = append(failed, r.Failed())
				}
				check("Failed", failed, tt.failed)
			}
			var atts []att
			for _, a := range m.Attachments {
				atts = append(atts, att{a.Name, a.ContentType, len(a.Data)})
			}
			check("Attachments", atts, tt.atts)
			check("Signed", m.Signed != nil, tt.signed)
			if tt.signed && !strings.HasPrefix(m.Signed.Signature, "-----BEGIN PGP SIGNATURE-----\n") {
				t.Errorf("Signature: got %q", m.Signed.Signature)
			}
			check("Encrypted", isArmored(m.Encrypted, "PGP MESSAGE"), tt.encrypted)
			check("ClearSigned", m.ClearSigned != "", tt.clear)
			if tt.clear && (!strings.HasPrefix(m.ClearSigned, "-----BEGIN PGP SIGNED MESSAGE-----\n") ||
				!strings.HasSuffix(m.ClearSigned, "-----END PGP SIGNATURE-----\n")) {
				t.Errorf("ClearSigned: got %q", m.ClearSigned)
			}
		})
	}
}

func isArmored(s, kind string) bool {
	return strings.HasPrefix(s, "-----BEGIN "+kind+"-----\n") && strings.HasSuffix(s, "-----END "+kind+"-----\n")
}

func TestAttachmentData(t *testing.T) {
	m, err := Parse(readTestdata(t, "attachment-pdf-rfc2231.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"the PDF is decoded from base64", m.Attachments[0].Data, []byte("%PDF-1.4\n1 0 obj\n")},
		{"a text attachment keeps its ISO-8859-1 bytes", m.Attachments[1].Data, []byte("Proc\xe9dure d'escalade")},
		{"the PNG is decoded from base64", m.Attachments[2].Data, []byte("\x89PNG\r\n\x1a\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.HasPrefix(tt.got, tt.want) {
				t.Errorf("got %q, want it to begin with %q", tt.got, tt.want)
			}
		})
	}
}

// rawMessage builds a raw message from LF-separated lines, with CRLF endings.
func rawMessage(lines ...string) []byte {
	return []byte(strings.ReplaceAll(strings.Join(lines, "\n")+"\n", "\n", "\r\n"))
}

func TestAuto(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		wantWhy string
	}{
		{"Auto-Submitted: auto-generated is automatic", "Auto-Submitted: auto-generated", "Auto-Submitted"},
		{"Auto-Submitted: no is a person's", "Auto-Submitted: no", ""},
		{"X-Autoreply is automatic", "X-Autoreply: yes", "X-Autoreply"},
		{"X-Autorespond is automatic", "X-Autorespond: on vacation", "X-Autorespond"},
		{"Precedence: bulk is automatic", "Precedence: bulk", "Precedence"},
		{"Precedence: auto_reply is automatic", "Precedence: auto_reply", "Precedence"},
		{"Precedence: first-class is a person's", "Precedence: first-class", ""},
		{"X-Auto-Response-Suppress naming OOF is automatic", "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply", "X-Auto-Response-Suppress"},
		{"X-Auto-Response-Suppress without All or OOF is a person's", "X-Auto-Response-Suppress: DR, RN", ""},
		{"List-Id is automatic", "List-Id: <csirts.lists.example.org>", "List-Id"},
		{"List-Unsubscribe is automatic", "List-Unsubscribe: <mailto:leave@lists.example.org>", "List-Unsubscribe"},
		{"Exchange's inbox rules loop is automatic", "X-MS-Exchange-Inbox-Rules-Loop: poc@cert.example.org", "X-MS-Exchange-Inbox-Rules-Loop"},
		{"a From of postmaster is automatic", "From: Postmaster <postmaster@cert.example.org>", "From"},
		{"a From of a bare MAILER-DAEMON is automatic", "From: MAILER-DAEMON", "From"},
		{"an English out-of-office subject is automatic", "Subject: Out of Office: Re: [pocdir] check", "subject"},
		{"Outlook's Automatic reply is automatic", "Subject: Automatic reply: [pocdir] check", "subject"},
		{"Auto: is automatic", "Subject: Auto: [pocdir] check", "subject"},
		{"a French absence subject is automatic", "Subject: Absence du bureau", "subject"},
		{"a French automatic reply is automatic", "Subject: Réponse automatique : [pocdir] check", "subject"},
		{"a Spanish automatic reply is automatic", "Subject: Respuesta automática: [pocdir] check", "subject"},
		{"a Russian automatic reply is automatic", "Subject: =?UTF-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiBbcG9jZGlyXQ==?=", "subject"},
		{"a Chinese automatic reply is automatic", "Subject: 自动回复: [pocdir] check", "subject"},
		{"an Arabic automatic reply is automatic", "Subject: رد تلقائي: [pocdir] check", "subject"},
		{"a reply about office hours is a person's", "Subject: Re: Out of office hours contact", ""},
		{"a subject on absences is a person's", "Subject: Absences in the team", ""},
		{"a subject on automobiles is a person's", "Subject: Automobile incident", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{"Message-ID: <a@b>"}
			if !strings.HasPrefix(tt.header, "From:") {
				lines = append(lines, "From: poc@cert.example.org")
			}
			m, err := Parse(rawMessage(append(lines, tt.header, "", "Hello")...), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.AutoWhy != tt.wantWhy || m.Auto != (tt.wantWhy != "") {
				t.Errorf("got Auto %v, AutoWhy %q; want AutoWhy %q", m.Auto, m.AutoWhy, tt.wantWhy)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
	}{
		{"an empty message is malformed", nil},
		{"a header line without a colon is malformed", rawMessage("From: a@b", "this is not a header", "", "x")},
		{"a header that starts with a continuation is malformed", rawMessage(" From: a@b", "", "x")},
		{"a multipart without a boundary is malformed", rawMessage("From: a@b", "Content-Type: multipart/mixed", "", "x")},
		{"a multipart without a delimiter is malformed", rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "", "x")},
		{"a body that is not base64 is malformed", rawMessage("From: a@b", "Content-Transfer-Encoding: base64", "", "!!!! not base64 ****")},
		{"a quoted-printable body with a control byte is malformed", rawMessage("From: a@b", "Content-Transfer-Encoding: quoted-printable", "", "a\x01b")},
		{"an unknown transfer encoding is malformed", rawMessage("From: a@b", "Content-Transfer-Encoding: x-uuencode", "", "begin 644 x")},
		{"a part with a broken header is malformed", rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "", "--b", "not a header", "", "x", "--b--")},
		{"a multipart/signed with one part is malformed", rawMessage("From: a@b",
			`Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=b`, "", "--b", "", "x", "--b--")},
		{"a multipart/encrypted without an armored message is malformed", rawMessage("From: a@b",
			`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b`, "",
			"--b", "Content-Type: application/pgp-encrypted", "", "Version: 1", "--b", "Content-Type: application/octet-stream", "", "binary?", "--b--")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw, Limits{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %+v, %v; want an error wrapping ErrMalformed", m, err)
			}
			if errors.Is(err, ErrTooComplex) {
				t.Errorf("got %v, which is not about a limit", err)
			}
		})
	}
}

// nested builds a message whose text lies under depth multiparts.
func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.org\nSubject: nested\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\n\ndeep\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return []byte(b.String())
}

// withAttachments builds a message with n small attachments.
func withAttachments(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n")
	for i := range n {
		fmt.Fprintf(&b, "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f%d.bin\n\nx\n", i)
	}
	b.WriteString("--b--\n")
	return []byte(b.String())
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		lim     Limits
		tooMany bool
	}{
		{"eight nested multiparts are read by default", nested(8), Limits{}, false},
		{"nine nested multiparts are too complex by default", nested(9), Limits{}, true},
		{"a lower MaxDepth is kept", nested(3), Limits{MaxDepth: 2}, true},
		{"ten attachments are read by default", withAttachments(10), Limits{}, false},
		{"eleven attachments are too complex by default", withAttachments(11), Limits{}, true},
		{"a higher MaxAttachments is kept", withAttachments(11), Limits{MaxAttachments: 11}, false},
		{"a lower MaxParts is kept", withAttachments(3), Limits{MaxParts: 4}, true},
		{"the parts of the testdata PDF reply fit the default", readTestdata(t, "attachment-pdf-rfc2231.eml"), Limits{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw, tt.lim)
			if tt.tooMany != errors.Is(err, ErrTooComplex) {
				t.Fatalf("got %v, want too complex: %v", err, tt.tooMany)
			}
			if tt.tooMany && !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, which does not wrap ErrMalformed", err)
			}
			if !tt.tooMany && err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"an unknown charset is read as UTF-8 with invalid bytes replaced",
			rawMessage("From: a@b", "Content-Type: text/plain; charset=x-made-up", "", "na\xefve caf\xc3\xa9"), "na\uFFFDve café\n"},
		{"text without a charset is read as UTF-8",
			rawMessage("From: a@b", "", "caf\xc3\xa9"), "café\n"},
		{"a Windows-1252 text is converted",
			rawMessage("From: a@b", "Content-Type: text/plain; charset=windows-1252", "", "\x93quoted\x94 \x80"), "“quoted” €\n"},
		{"a Content-Type without its semicolon is read as text/plain, as RFC 2045 says",
			rawMessage("From: a@b", "Content-Type: text/plain charset=us-ascii", "", "hello"), "hello\n"},
		{"an HTML-only message is made plain text",
			rawMessage("From: a@b", "Content-Type: text/html; charset=utf-8", "", "<p>Hello&nbsp;there,</p><p>we confirm.</p>"), "Hello there,\n\nwe confirm."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tt.want {
				t.Errorf("got %q, want %q", m.Text, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	m, err := Parse(rawMessage(
		`From: "Doe, Jane" <Jane.Doe@CERT.Example.ORG>`,
		`To: "pocdir" <Reply+Tok@Reply.Example.org>, other@example.org`,
		`Cc: =?x-unknown?q?Caf=E9?= <cc@example.org>`,
		`Delivered-To: reply+tok@reply.example.org`,
		`X-Original-To: orig@example.org`,
		`Envelope-To: env@example.org`,
		`Message-ID: <no-at-sign>`,
		`In-Reply-To: <first@example.org> (Jane's message of Tuesday) <second@example.org>`,
		`References: <a@example.org>`,
		` <b@example.org>`,
		`Subject: =?UTF-8?Q?Line_one?=`,
		`	 and two`,
		`Date: not a date`,
		``,
		`Hello`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"the From address keeps its local part and lower-cases its domain", m.From, "Jane.Doe@cert.example.org"},
		{"recipients come lower-cased, deduplicated and in order, an unknown charset notwithstanding", m.Recipients,
			[]string{"reply+tok@reply.example.org", "other@example.org", "cc@example.org", "orig@example.org", "env@example.org"}},
		{"a Message-ID without @ is kept", m.MessageID, "no-at-sign"},
		{"In-Reply-To gives its first id despite a comment", m.InReplyTo, "first@example.org"},
		{"References are all kept", m.References, []string{"a@example.org", "b@example.org"}},
		{"a folded subject is one line", m.Subject, "Line one and two"},
		{"an unreadable date is zero", m.Date.IsZero(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestStripQuoted(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"text without quotes is kept, blank lines around it trimmed", "\n\nYes, confirmed.\n\n", "Yes, confirmed."},
		{"an English attribution and its quote go", "Confirmed.\n\nOn Tue, 12 Mar 2024 at 09:15, pocdir <n@pocdir.example.org> wrote:\n> Please confirm.\n", "Confirmed."},
		{"answers between quotes stay", "> Is the address right?\nYes.\n> Is the key valid?\nNo, a new one follows.\n", "Yes.\nNo, a new one follows."},
		{"a sentence beginning with On is not an attribution", "On Monday we renew the key.\n> Please confirm.\n", "On Monday we renew the key."},
		{"a Chinese attribution goes", "已确认。\n\npocdir <n@pocdir.example.org> 于2024年3月12日周二 09:15写道：\n> 请确认。\n", "已确认。"},
		{"a Russian Thunderbird attribution goes", "Подтверждаем.\n\n12.03.2024 09:15, pocdir пишет:\n> Просим подтвердить.\n", "Подтверждаем."},
		{"a Spanish attribution goes", "Confirmado.\n\nEl 12/3/24 a las 9:15, pocdir escribió:\n> Confirme.\n", "Confirmado."},
		{"an Arabic attribution goes", "تم التأكيد.\n\nفي 12 مارس كتب pocdir:\n> يرجى التأكيد.\n", "تم التأكيد."},
		{"Outlook's header block goes with what follows, and the rule above it",
			"Confirmed.\n\n________________________________\nFrom: pocdir <n@pocdir.example.org>\nSent: Tuesday, March 12, 2024 9:15\nTo: poc\nSubject: check\n\nPlease confirm.\n",
			"Confirmed."},
		{"a French Outlook header block goes", "Confirmé.\n\nDe : pocdir <n@pocdir.example.org>\nEnvoyé : mardi 12 mars 2024 09:15\nÀ : poc\n\nMerci de confirmer.", "Confirmé."},
		{"a localized Original Message line cuts", "Confirmé.\n-----Message d'origine-----\nDe: pocdir\n", "Confirmé."},
		{"the signature goes", "Confirmed.\n-- \nJohn\n+32 2 000 00 00\n", "Confirmed."},
		{"a quoted signature separator does not cut", "> -- \n> pocdir\nConfirmed.\n", "Confirmed."},
		{"CRLF line endings are read", "Confirmed.\r\n> quote\r\n", "Confirmed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripQuoted(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"paragraphs and line breaks become lines", "<p>One</p><p>Two<br>Three</p>", "One\n\nTwo\nThree"},
		{"script, style and comments go", "<style>p{color:red}</style><script>alert(1)</script><!-- x -->Text", "Text"},
		{"entities are unescaped once", "a &lt;b&gt; &amp;amp; &eacute;", "a <b> &amp; é"},
		{"source line breaks are spaces", "one\ntwo\n\n  three", "one two three"},
		{"a blockquote becomes a quote", "Yes.<blockquote>Please <b>confirm</b>.<br>Thanks</blockquote>", "Yes.\n> Please confirm.\n> Thanks"},
		{"table cells are spaced", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"a lone < is kept", "1 < 2", "1 < 2"},
		{"a quoted > in an attribute does not end the tag", `<a title="x>y" href="#">link</a>`, "link"},
		{"an unclosed script drops the rest", "Hi<script>var x", "Hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a Gmail HTML reply reads, and strips, as its plain text does", func(t *testing.T) {
		raw := readTestdata(t, "gmail-latin1-base64.eml")
		// Make the text/plain alternative something else, so the HTML is used.
		raw = bytes.Replace(raw, []byte("Content-Type: text/plain;"), []byte("Content-Type: text/x-other;"), 1)
		m, err := Parse(raw, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want := "Hola,\n\nConfirmamos la recepción del mensaje. El punto de contacto sigue siendo válido.\n\nSaludos,\nJuan García"
		if got := StripQuoted(m.Text); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delSp bool
		want  string
	}{
		{"soft breaks join", "one \ntwo\nthree", false, "one two\nthree"},
		{"DelSp removes the space", "lo \nng\n", true, "long\n"},
		{"quotes join at the same depth only", "> a \n> b\n>> c \n> d", false, "> a b\n>> c\n> d"},
		{"space-stuffing goes", " From here\n >x", false, "From here\n>x"},
		{"the signature separator is not a soft break", "-- \nJohn", false, "-- \nJohn"},
		{"a soft line before the signature separator ends there", "Regards \n-- \nJohn", false, "Regards\n-- \nJohn"},
		{"a soft last line loses its space", "end ", false, "end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unflow(tt.in, tt.delSp); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// lf turns CRLF into LF, as a mail store that writes LF does.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// signedMessage wraps a signed part and its armored signature in a
// multipart/signed message with LF line endings.
func signedMessage(part, sig string) []byte {
	return []byte("From: PoC <poc@example.org>\n" +
		"To: reply+tok@reply.pocdir.example.org\n" +
		"Subject: Re: check\n" +
		"Message-ID: <signed@example.org>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/signed; micalg=pgp-sha256;\n" +
		" protocol=\"application/pgp-signature\"; boundary=\"sig-b\"\n\n" +
		"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n" +
		"--sig-b\n" + lf(part) + "\n--sig-b\n" +
		"Content-Type: application/pgp-signature; name=\"signature.asc\"\n\n" +
		lf(sig) + "\n--sig-b--\n")
}

// signedPart is what the tests sign: a MIME entity in canonical form.
const signedPart = "Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"We confirm receipt =E2=80=94 the contact is unchanged.\r\n"

func verifyDetached(t *testing.T, pub *crypto.Key, m *Message) error {
	t.Helper()
	verifier, err := crypto.PGP().Verify().VerificationKey(pub).DisableVerifyTimeCheck().New()
	if err != nil {
		t.Fatal(err)
	}
	res, err := verifier.VerifyDetached(m.Signed.Data, []byte(m.Signed.Signature), crypto.Armor)
	if err != nil {
		return err
	}
	return res.SignatureError()
}

func TestSignedPGPMIME(t *testing.T) {
	pgp := crypto.PGP()
	key, err := pgp.KeyGeneration().AddUserId("PoC", "poc@example.org").New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.ToPublic()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := pgp.Sign().SigningKey(key).Detached().New()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(signedPart), crypto.Armor)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		part     string
		verifies bool
	}{
		{"the signed part of an LF message verifies once made CRLF again", signedPart, true},
		{"a signature over altered text does not verify", strings.Replace(signedPart, "confirm", "deny", 1), false},
		{"a signature over trailing white space added does not verify", signedPart + " ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(signedMessage(tt.part, string(sig)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Signed == nil {
				t.Fatal("got no Signed")
			}
			if got, want := string(m.Signed.Data), tt.part; got != want {
				t.Errorf("Data: got %q, want %q", got, want)
			}
			err = verifyDetached(t, pub, m)
			if tt.verifies != (err == nil) {
				t.Errorf("got verification error %v, want it to verify: %v", err, tt.verifies)
			}
			if tt.verifies && m.Text != "We confirm receipt — the contact is unchanged.\n" {
				t.Errorf("Text: got %q", m.Text)
			}
		})
	}
}

// TestSignedByGPG checks the parser against a signature that GnuPG (which
// Thunderbird's predecessors and many PoCs use) made, not gopenpgp itself.
func TestSignedByGPG(t *testing.T) {
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatal("gpg is required (CI installs gnupg)")
		}
		t.Skip("gpg is not installed")
	}
	home := t.TempDir()
	run := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--batch", "--no-tty", "--quiet"}, args...)...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
	})
	run("", "--passphrase", "", "--quick-gen-key", "PoC <poc@example.org>", "ed25519", "sign", "never")
	sig := run(signedPart, "--armor", "--detach-sign")
	pub, err := crypto.NewKeyFromArmored(string(run("", "--armor", "--export", "poc@example.org")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		part     string
		verifies bool
	}{
		{"a gpg signature verifies over the parsed part", signedPart, true},
		{"a gpg signature over altered text does not verify", strings.Replace(signedPart, "unchanged", "changed", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(signedMessage(tt.part, string(sig)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if err := verifyDetached(t, pub, m); tt.verifies != (err == nil) {
				t.Errorf("got verification error %v, want it to verify: %v", err, tt.verifies)
			}
		})
	}
}

// TestTestdataSignatures verifies the messages gpg signed for testdata,
// which were written as Thunderbird writes them.
func TestTestdataSignatures(t *testing.T) {
	pub, err := crypto.NewKeyFromArmored(string(readTestdata(t, "poc-public.asc")))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the PGP/MIME signed message verifies", func(t *testing.T) {
		m, err := Parse(readTestdata(t, "pgp-signed.eml"), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyDetached(t, pub, m); err != nil {
			t.Error(err)
		}
		if len(m.Attachments) != 0 {
			t.Errorf("got attachments %v; the signature is not one", m.Attachments)
		}
	})
	t.Run("the inline clear-signed message verifies, and its text is the signed text", func(t *testing.T) {
		m, err := Parse(readTestdata(t, "inline-clearsigned.eml"), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := crypto.PGP().Verify().VerificationKey(pub).DisableVerifyTimeCheck().New()
		if err != nil {
			t.Fatal(err)
		}
		res, err := verifier.VerifyCleartext([]byte(m.ClearSigned))
		if err != nil {
			t.Fatal(err)
		}
		if err := res.SignatureError(); err != nil {
			t.Error(err)
		}
		if got := strings.TrimRight(string(res.Cleartext()), "\n"); got != m.Text {
			t.Errorf("verified text %q, Text %q", got, m.Text)
		}
	})
}

func TestParseEntity(t *testing.T) {
	pgp := crypto.PGP()
	key, err := pgp.KeyGeneration().AddUserId("pocdir", "pocdir@example.org").New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := pgp.Sign().SigningKey(key).Detached().New()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign([]byte(signedPart), crypto.Armor)
	if err != nil {
		t.Fatal(err)
	}
	mixed := "Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWe confirm receipt.\r\n" +
		"--inner\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"reply.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n")) + "\r\n--inner--\r\n"
	signed := "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n" +
		"--s\r\n" + signedPart + "\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n" + string(sig) + "\r\n--s--\r\n"
	tests := []struct {
		name      string
		entity    string
		wantText  string
		wantAtts  int
		wantSig   bool
		wantClear bool
	}{
		{"a decrypted multipart gives its text and attachment", mixed, "We confirm receipt.", 1, false, false},
		{"a decrypted multipart/signed gives its signed part", signed, "We confirm receipt — the contact is unchanged.\n", 0, true, false},
		{"decrypted inline text is read as plain text", "We confirm receipt.\r\n", "We confirm receipt.\n", 0, false, false},
		{"decrypted text whose first line looks like a header is still text", "Note: all fine\n\nRegards", "Note: all fine\n\nRegards", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := pgp.Encryption().Recipient(key).New()
			if err != nil {
				t.Fatal(err)
			}
			pm, err := enc.Encrypt([]byte(tt.entity))
			if err != nil {
				t.Fatal(err)
			}
			armored, err := pm.Armor()
			if err != nil {
				t.Fatal(err)
			}
			raw := "From: PoC <poc@example.org>\nTo: reply+tok@reply.pocdir.example.org\nSubject: ...\n" +
				"Message-ID: <enc@example.org>\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\n\n" +
				"--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--e\nContent-Type: application/octet-stream\n\n" +
				armored + "\n--e--\n"
			m, err := Parse([]byte(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != "" || m.Encrypted == "" {
				t.Fatalf("got Text %q, Encrypted %q; want only Encrypted", m.Text, m.Encrypted)
			}
			dec, err := pgp.Decryption().DecryptionKey(key).New()
			if err != nil {
				t.Fatal(err)
			}
			plain, err := dec.Decrypt([]byte(m.Encrypted), crypto.Armor)
			if err != nil {
				t.Fatal(err)
			}
			if err := ParseEntity(m, plain.Bytes(), Limits{}); err != nil {
				t.Fatal(err)
			}
			if m.Text != tt.wantText {
				t.Errorf("Text: got %q, want %q", m.Text, tt.wantText)
			}
			if len(m.Attachments) != tt.wantAtts {
				t.Errorf("Attachments: got %d, want %d", len(m.Attachments), tt.wantAtts)
			}
			if (m.Signed != nil) != tt.wantSig {
				t.Errorf("Signed: got %v, want %v", m.Signed != nil, tt.wantSig)
			}
			if m.Encrypted != "" || m.MessageID != "enc@example.org" || m.From != "poc@example.org" {
				t.Errorf("got Encrypted %q, MessageID %q, From %q; want the envelope kept and Encrypted reset",
					m.Encrypted, m.MessageID, m.From)
			}
		})
	}
}

func TestSignedPartOnly(t *testing.T) {
	// A list server that appends a footer wraps the signed part in a
	// multipart/mixed; the footer must not pass for the writer's text.
	raw := signedMessage(signedPart, "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n")
	raw = bytes.Replace(raw, []byte("Content-Type: multipart/signed"),
		[]byte("Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/signed"), 1)
	raw = append(raw, "\n--outer\nContent-Type: text/plain\n\nUnsigned footer\n--outer\nContent-Disposition: attachment; filename=x.txt\n\nx\n--outer--\n"...)
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"the text comes from the signed part", m.Text, "We confirm receipt — the contact is unchanged.\n"},
		{"an attachment outside the signed part is left out", len(m.Attachments), 0},
		{"the signed part is kept", m.Signed != nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestFileNames(t *testing.T) {
	tests := []struct {
		name        string
		disposition string
		want        string
	}{
		{"a path is cut to its base name", `attachment; filename="../../etc/passwd"`, "passwd"},
		{"a Windows path is cut to its base name", `attachment; filename="C:\\Users\\poc\\report.pdf"`, "report.pdf"},
		{"control characters go", "attachment; filename=\"a\x01b.txt\"", "ab.txt"},
		{"an RFC 2231 name in Windows-1252 is decoded", `attachment; filename*=windows-1252''%93r%E9sum%E9%94.txt`, "“résumé”.txt"},
		{"an RFC 2047 name is decoded", `attachment; filename="=?UTF-8?B?0L7RgtGH0LXRgi5wZGY=?="`, "отчет.pdf"},
		{"a name of dots is no name", `attachment; filename=".."`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "",
				"--b", "", "text", "--b", "Content-Disposition: "+tt.disposition, "", "data", "--b--"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Attachments) != 1 {
				t.Fatalf("got %d attachments, want 1", len(m.Attachments))
			}
			if got := m.Attachments[0].Name; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLenientStructure(t *testing.T) {
	long := strings.Repeat("x", 400)
	tests := []struct {
		name  string
		raw   []byte
		check func(m *Message) (got, want any)
	}{
		{"a multipart cut short before its close delimiter keeps its last part",
			rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "first", "--b", "Content-Disposition: attachment; filename=x.txt", "", "cut sh"),
			func(m *Message) (any, any) { return string(m.Attachments[0].Data), "cut sh\r\n" }},
		{"a Diagnostic-Code is cut to 300 bytes",
			rawMessage("From: a@b", "Content-Type: multipart/report; report-type=delivery-status; boundary=b", "",
				"--b", "", "bounce", "--b", "Content-Type: message/delivery-status", "", "Reporting-MTA: dns; x", "",
				"Final-Recipient: rfc822; <poc@example.org>", "Action: failed", "Status: 5.0.0 (permanent)", "Diagnostic-Code: smtp; "+long, "--b--"),
			func(m *Message) (any, any) {
				r := m.DSN.Recipients[0]
				return []any{r.FinalRecipient, r.Status, len(r.Diagnostic)}, []any{"poc@example.org", "5.0.0", 300}
			}},
		{"a preamble and an epilogue are ignored",
			rawMessage("From: a@b", "Content-Type: multipart/alternative; boundary=b", "", "preamble", "--b", "", "body", "--b--", "epilogue"),
			func(m *Message) (any, any) { return m.Text, "body" }},
		{"a delimiter with trailing white space is a delimiter",
			rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "", "--b  ", "", "body", "--b-- "),
			func(m *Message) (any, any) { return m.Text, "body" }},
		{"a line that only begins with the boundary is content",
			rawMessage("From: a@b", "Content-Type: multipart/mixed; boundary=b", "", "--b", "", "--bx is text", "--b--"),
			func(m *Message) (any, any) { return m.Text, "--bx is text" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tt.check(m); !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
