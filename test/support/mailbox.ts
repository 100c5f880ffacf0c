import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps every message as a file, so tests in other workers can read them. */
export async function startMailbox(
  dir: string,
  port: number,
  /** Recipients the server refuses for now (451, "try again later"), as a full mailbox or greylisting does. */
  refuses: (address: string) => boolean = () => false,
): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, done) {
      if (!refuses(address.address)) return done();
      done(Object.assign(new Error(`${address.address}: mailbox unavailable, try again later`), { responseCode: 451 }));
    },
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        writeFileSync(resolve(dir, `${String(++count).padStart(5, '0')}.eml`), Buffer.concat(chunks));
        done();
      });
    },
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  return () => new Promise<void>((closed) => server.close(() => closed()));
}

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export async function receivedMail(dir: string): Promise<ReceivedMail[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  return Promise.all(
    files.map(async (file) => {
      const mail = await simpleParser(readFileSync(resolve(dir, file)));
      const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '');
      return { to, subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : '' };
    }),
  );
}
