import { describe, expect, it } from 'vitest';
import { withPeerEntries } from '../../src/network/user-networks/peer-hosts';

describe('the user networks block of /etc/hosts', () => {
  const base = '127.0.0.1\tlocalhost\n127.0.1.1\tabc\n';

  it('is appended, replaced on the next rewrite, and removed when there is nothing to say', () => {
    const one = withPeerEntries(base, [{ ip: '10.89.1.2', names: ['web', 'www', 'web'] }]);
    expect(one).toBe(`${base}# skiff user networks: begin\n10.89.1.2\tweb www\n# skiff user networks: end\n`);
    const two = withPeerEntries(one, [{ ip: '10.89.1.3', names: ['db', ''] }]);
    expect(two).toBe(`${base}# skiff user networks: begin\n10.89.1.3\tdb\n# skiff user networks: end\n`);
    expect(withPeerEntries(two, [])).toBe(base);
  });

  it('keeps what follows the block and ends a last line without a newline first', () => {
    const withTail = `${base}# skiff user networks: begin\nold\n# skiff user networks: end\n1.2.3.4\tadded\n`;
    expect(withPeerEntries(withTail, [{ ip: '10.0.0.2', names: ['x'] }])).toBe(`${base}1.2.3.4\tadded\n# skiff user networks: begin\n10.0.0.2\tx\n# skiff user networks: end\n`);
    expect(withPeerEntries('1.1.1.1 a', [{ ip: '10.0.0.2', names: ['x'] }])).toBe('1.1.1.1 a\n# skiff user networks: begin\n10.0.0.2\tx\n# skiff user networks: end\n');
  });
});
