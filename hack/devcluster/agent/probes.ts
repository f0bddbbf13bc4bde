// One attempt of a container probe (HTTP GET, TCP socket or exec), as the kubelet's prober.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { spawn } from 'node:child_process';

export interface ProbeTarget {
  podIP: string;
  containerPorts: { name?: string; containerPort: number }[];
  /** For exec probes: the container's environment, and the prefix that enters the container. */
  env: Record<string, string>;
  exec: string[];
}

export interface ProbeResult {
  success: boolean;
  message?: string;
}

export function resolvePort(
  port: number | string,
  ports: { name?: string; containerPort: number }[],
): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}

export async function runProbe(probe: any, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) return httpProbe(probe.httpGet, target, timeoutMs);
  if (probe.tcpSocket) return tcpProbe(probe.tcpSocket, target, timeoutMs);
  if (probe.exec) return execProbe(probe.exec, target, timeoutMs);
  return { success: false, message: 'unsupported probe type (only httpGet, tcpSocket and exec)' };
}

function httpProbe(spec: any, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(spec.port, target.containerPorts);
  if (port === undefined) return Promise.resolve({ success: false, message: `named port "${spec.port}" not found` });
  const scheme = String(spec.scheme ?? 'HTTP').toUpperCase();
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' };
  for (const h of spec.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const req = (scheme === 'HTTPS' ? https : http).request({
      host: spec.host || target.podIP,
      port,
      path: spec.path ?? '/',
      method: 'GET',
      headers,
      timeout: timeoutMs,
      agent: false,
      rejectUnauthorized: false,
    });
    req.on('response', (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(
        code >= 200 && code < 400
          ? { success: true }
          : { success: false, message: `HTTP probe failed with statuscode: ${code}` },
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) =>
      resolve({ success: false, message: `Get "http://${target.podIP}:${port}${spec.path ?? '/'}": ${err.message}` }),
    );
    req.end();
  });
}

function tcpProbe(spec: any, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(spec.port, target.containerPorts);
  if (port === undefined) return Promise.resolve({ success: false, message: `named port "${spec.port}" not found` });
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.host || target.podIP, port, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ success: true });
    });
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', (err) => resolve({ success: false, message: err.message }));
  });
}

function execProbe(spec: any, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const command: string[] = spec.command ?? [];
  if (command.length === 0) return Promise.resolve({ success: false, message: 'exec probe has no command' });
  const argv = [...target.exec, ...command];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: target.env, stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ success: false, message: err.message });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { success: true } : { success: false, message: `command exited with ${code}` });
    });
  });
}
