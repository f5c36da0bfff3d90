/**
 * One HTTP request from a chosen local address (Linux routes all of 127/8 to the loopback interface, so
 * a client can speak as 127.0.0.2, 127.0.0.3, … to a server on 127.0.0.1): what per-address limits see.
 * Used by the server tests and the hardening benchmark.
 */
import http from 'node:http';

export interface LocalResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function requestFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<LocalResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(init.body);
  });
}
