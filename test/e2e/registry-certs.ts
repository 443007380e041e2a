// Certificates for the e2e registries, made with the openssl CLI (Node can sign data but not
// X.509 certificates). EC P-256 keys: fast to generate, and accepted by Go (the registry,
// skopeo) and by Node alike.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface TlsFiles {
  /** PEM of the CA that signed the server certificate (what clients must trust) */
  caFile: string;
  /** PEM server certificate for 127.0.0.1 and localhost (IP and DNS subjectAltNames) */
  certFile: string;
  keyFile: string;
}

export interface SigningCert {
  /** self-signed PEM certificate: the registry's `auth.token.rootcertbundle` */
  certFile: string;
  keyFile: string;
  /** the certificate in DER, for a JWT's `x5c` header */
  der: Buffer;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '30';

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (r.error) throw new Error(`cannot run openssl (${r.error.message}): install Debian's openssl`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

/** A CA and a server certificate it signed, valid for 127.0.0.1 and localhost, written in `dir`. */
export function makeServerTls(dir: string): TlsFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (name: string) => path.join(dir, name);
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', DAYS, '-subj', '/CN=skiff-test registry CA'],
    dir,
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'], dir);
  fs.writeFileSync(
    f('server.ext'),
    [
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', DAYS, '-extfile', f('server.ext'), '-out', f('server.crt'),
    ],
    dir,
  );
  return { caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') };
}

/** A self-signed certificate whose key signs the token server's JWTs, written in `dir`. */
export function makeSigningCert(dir: string): SigningCert {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, 'token-signer.crt');
  const keyFile = path.join(dir, 'token-signer.key');
  openssl(['req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', DAYS, '-subj', '/CN=skiff-test token signer'], dir);
  return { certFile, keyFile, der: pemToDer(fs.readFileSync(certFile, 'utf8')) };
}

function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('openssl wrote no PEM certificate');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}
