import { Option } from 'clipanion';
import { isInt } from './int-flag';
import { SkiffCommand } from '../base';
import { UsageError } from '../../errors';
import type { CreateOptions } from '../../engine/create';

/** The flags `run` and `create` share (Docker's container config flags). */
export abstract class ContainerConfigCommand extends SkiffCommand {
  env = Option.Array('-e,--env', [], { description: 'Set environment variables (KEY=VALUE, or KEY to copy it from here)' });
  envFile = Option.Array('--env-file', [], { description: 'Read environment variables from a file' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' });
  entrypoint = Option.String('--entrypoint', { description: 'Overwrite the default ENTRYPOINT of the image' });
  name = Option.String('--name', { description: 'Assign a name to the container' });
  hostname = Option.String('-h,--hostname', { description: 'Container host name' });
  network = Option.String('--network,--net', { description: 'Connect a container to a network: bridge (the default: user-mode, by slirp4netns or pasta), none, host, container:NAME, pasta[:OPTIONS], slirp4netns[:OPTIONS]' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a container's port(s) to the host ([IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp])" });
  publishAll = Option.Boolean('-P,--publish-all', false, { description: 'Publish all exposed ports to random ports' });
  expose = Option.Array('--expose', [], { description: 'Expose a port or a range of ports' });
  dns = Option.Array('--dns', [], { description: 'Set custom DNS servers' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'Set custom DNS search domains' });
  dnsOption = Option.Array('--dns-option,--dns-opt', [], { description: 'Set DNS options' });
  addHost = Option.Array('--add-host', [], { description: 'Add a custom host-to-IP mapping (host:ip, or host:host-gateway)' });
  domainname = Option.String('--domainname', { description: 'Container NIS domain name' });
  networkAlias = Option.Array('--network-alias', [], { description: 'Add network-scoped alias for the container' });
  ip = Option.String('--ip', { description: 'IPv4 address (e.g., 172.30.100.104)' });
  macAddress = Option.String('--mac-address', { description: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' });
  attach = Option.Array('-a,--attach', [], { description: 'Attach to STDIN, STDOUT or STDERR' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  rm = Option.Boolean('--rm', false, { description: 'Automatically remove the container when it exits' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the pull output' });
  pull = Option.String('--pull', 'missing', { description: 'Pull image before running: always, missing or never' });
  platform = Option.String('--platform', { description: 'Set platform if the image is pulled (os/arch[/variant])' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add Linux capabilities (e.g. NET_ADMIN, or ALL)' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop Linux capabilities (e.g. NET_RAW, or ALL)' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give extended privileges to this container (all capabilities, no seccomp, host devices)' });
  securityOpt = Option.Array('--security-opt', [], { description: 'Security options: seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], systempaths=unconfined' });
  label = Option.Array('-l,--label', [], { description: 'Set meta data on a container' });
  labelFile = Option.Array('--label-file', [], { description: 'Read in a line delimited file of labels' });
  cidfile = Option.String('--cidfile', { description: 'Write the container ID to the file' });
  stopSignal = Option.String('--stop-signal', { description: 'Signal to stop the container' });
  stopTimeout = Option.String('--stop-timeout', { validator: isInt, description: 'Timeout (in seconds) to stop a container' });
  replace = Option.Boolean('--replace', false, { description: 'If a container with the same name exists, replace it (Podman)' });
  restart = Option.String('--restart', 'no', { description: 'Restart policy to apply when a container exits: no, on-failure[:max-retries], always or unless-stopped' });
  init = Option.Boolean('--init', false, { description: 'Run an init inside the container that forwards signals and reaps processes' });
  uts = Option.String('--uts', { description: 'UTS namespace to use: host' });
  ipc = Option.String('--ipc', { description: 'IPC mode to use: private, shareable, host, none or container:NAME' });
  pid = Option.String('--pid', { description: 'PID namespace to use: host or container:NAME' });
  cgroupns = Option.String('--cgroupns', { description: 'Cgroup namespace to use: host or private' });
  ulimit = Option.Array('--ulimit', [], { description: 'Ulimit options (NAME=SOFT[:HARD])' });
  oomScoreAdj = Option.String('--oom-score-adj', { description: "Tune host's OOM preferences (-1000 to 1000)" });
  groupAdd = Option.Array('--group-add', [], { description: 'Add additional groups to join' });
  device = Option.Array('--device', [], { description: 'Add a host device to the container (HOST[:CONTAINER][:rwm])' });
  tmpfs = Option.Array('--tmpfs', [], { description: 'Mount a tmpfs directory (PATH[:OPTIONS])' });
  volume = Option.Array('-v,--volume', [], { description: 'Bind mount a volume ([NAME|HOST-PATH:]CONTAINER-PATH[:ro|rw|z|Z|U|nocopy])' });
  mount = Option.Array('--mount', [], { description: 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=...,target=...,readonly,...)' });
  volumesFrom = Option.Array('--volumes-from', [], { description: 'Mount volumes from the specified container(s) (CONTAINER[:ro|rw])' });
  readOnly = Option.Boolean('--read-only', false, { description: "Mount the container's root filesystem as read only" });
  userns = Option.String('--userns', { description: 'User namespace to use: host (default) or keep-id[:uid=N,gid=N] (Podman; rootless: the container user is your own UID/GID)' });
  logDriver = Option.String('--log-driver', { description: 'Logging driver for the container: json-file (default), k8s-file or none' });
  logOpt = Option.Array('--log-opt', [], { description: 'Log driver options (max-size=10m, max-file=3)' });
  healthCmd = Option.String('--health-cmd', { description: 'Command to run to check health' });
  healthInterval = Option.String('--health-interval', { description: 'Time between running the check (ms|s|m|h) (default 30s)' });
  healthRetries = Option.String('--health-retries', { description: 'Consecutive failures needed to report unhealthy (default 3)' });
  healthStartPeriod = Option.String('--health-start-period', { description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)' });
  healthTimeout = Option.String('--health-timeout', { description: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)' });
  noHealthcheck = Option.Boolean('--no-healthcheck', false, { description: 'Disable any container-specified HEALTHCHECK' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

  /** The --health-* flags, checked (engine/healthcheck.ts, loaded only when one is given). */
  protected async healthOptions(): Promise<Pick<CreateOptions, 'healthcheck'>> {
    const given = this.healthCmd ?? this.healthInterval ?? this.healthRetries ?? this.healthStartPeriod ?? this.healthTimeout;
    if (given === undefined && !this.noHealthcheck) return {};
    const { healthConfigFromFlags } = await import('../../engine/healthcheck');
    let retries: number | undefined;
    if (this.healthRetries !== undefined) {
      retries = Number(this.healthRetries);
      if (!/^-?[0-9]+$/.test(this.healthRetries)) {
        const { SkiffError } = await import('../../util/errors');
        throw new SkiffError(`invalid argument "${this.healthRetries}" for "--health-retries" flag: strconv.ParseInt: parsing "${this.healthRetries}": invalid syntax`);
      }
    }
    return { healthcheck: healthConfigFromFlags({
      cmd: this.healthCmd, interval: this.healthInterval, timeout: this.healthTimeout, startPeriod: this.healthStartPeriod,
      retries, none: this.noHealthcheck,
    }) };
  }

  /**
   * The streams an attached run gives the user (docker-cli's containerOptions): those -a names,
   * else stdout and stderr; stdin with -a stdin or -i. Docker's words for a bad name.
   */
  protected attachStreams(): { stdin: boolean; stdout: boolean; stderr: boolean } {
    const names = this.attach.map((a) => {
      const s = a.toLowerCase();
      if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw new UsageError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
      return s;
    });
    const none = names.length === 0;
    return { stdin: names.includes('stdin') || this.interactive, stdout: none || names.includes('stdout'), stderr: none || names.includes('stderr') };
  }

  /** attach is always set here (the streams of an attached run): run passes it on to start */
  protected createOptions(): CreateOptions & { attach: NonNullable<CreateOptions['attach']> } {
    return {
      image: this.image, command: this.command, name: this.name, env: this.env, envFiles: this.envFile,
      workdir: this.workdir, user: this.user, entrypoint: this.entrypoint, hostname: this.hostname,
      network: this.network, endpoint: { aliases: this.networkAlias, ip: this.ip, mac: this.macAddress }, tty: this.tty, interactive: this.interactive, attach: this.attachStreams(), autoRemove: this.rm, pull: this.pull, quiet: this.quiet, platform: this.platform,
      logDriver: this.logDriver, logOpts: this.logOpt,
      security: this.securityOpt.length || this.capAdd.length || this.capDrop.length || this.privileged
        ? { securityOpt: this.securityOpt, capAdd: this.capAdd, capDrop: this.capDrop, privileged: this.privileged } : undefined,
      labels: this.label, labelFiles: this.labelFile, cidfile: this.cidfile, stopSignal: this.stopSignal,
      stopTimeout: this.stopTimeout, replace: this.replace,
      networkFlags: {
        publish: this.publish, publishAll: this.publishAll, expose: this.expose, dns: this.dns, dnsSearch: this.dnsSearch,
        dnsOption: this.dnsOption, addHost: this.addHost, domainname: this.domainname,
      },
      mountFlags: { volumes: this.volume, mounts: this.mount, volumesFrom: this.volumesFrom }, readOnly: this.readOnly, userns: this.userns,
      runFlags: {
        restart: this.restart, init: this.init, uts: this.uts, ipc: this.ipc, pid: this.pid, cgroupns: this.cgroupns,
        ulimit: this.ulimit, oomScoreAdj: this.oomScoreAdj, groupAdd: this.groupAdd, device: this.device, tmpfs: this.tmpfs,
      },
    };
  }
}
