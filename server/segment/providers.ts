/**
 * ONNX Runtime execution providers: which one runs a model (`cpu`, `cuda`, `tensorrt`, or `auto`),
 * decided from what is installed. onnxruntime-node ships its CPU runtime; the CUDA and TensorRT
 * providers are separate shared libraries (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`
 * downloads them) that also need NVIDIA's CUDA 12, cuDNN 9 (and TensorRT 10) libraries and a driver.
 * `listSupportedBackends()` reports `cuda` with `bundled: false` whether or not those are present, so
 * the files themselves are looked for.
 *
 * Detection is a plain function returning a `ProviderEnvironment`, so the choice can be tested with
 * any environment (there is no GPU where the tests run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HolocaseError } from '../errors.ts';

export type ProviderName = 'cpu' | 'cuda' | 'tensorrt';
export type ProviderRequest = ProviderName | 'auto';
export const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['auto', 'cpu', 'cuda', 'tensorrt'];

/** What is installed, as far as execution providers care. */
export interface ProviderEnvironment {
  platform: NodeJS.Platform;
  /** onnxruntime-node's `listSupportedBackends()`. */
  backends: { name: string; bundled: boolean }[];
  /** Provider library file names present beside the onnxruntime-node binding. */
  providerLibraries: string[];
  /** NVIDIA runtime library file names the dynamic loader can find (e.g. `libcudnn.so.9`). */
  runtimeLibraries: string[];
  /** An NVIDIA driver/device is present. */
  gpu: boolean;
}

export type ProviderDetector = () => ProviderEnvironment;

export interface ProviderChoice {
  provider: ProviderName;
  /** Execution providers handed to ONNX Runtime, in priority order (CPU last, for unsupported nodes). */
  executionProviders: ProviderName[];
  /** Why, for the job log: "auto: CUDA not available (missing libcudnn.so.9); using cpu". */
  reason: string;
}

interface Requirement {
  /** A file name pattern, or the GPU itself. */
  test: (env: ProviderEnvironment) => boolean;
  /** What is missing, and how to get it, for an administrator. */
  missing: string;
}

const INSTALL_PROVIDERS = 'run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` on the GPU host';

function has(list: string[], pattern: RegExp): boolean {
  return list.some((name) => pattern.test(name));
}

function cudaRequirements(platform: NodeJS.Platform): Requirement[] {
  const win = platform === 'win32';
  const lib = (linux: RegExp, windows: RegExp) => (win ? windows : linux);
  return [
    { test: (e) => e.backends.some((b) => b.name === 'cuda'), missing: `this onnxruntime-node build has no CUDA backend on ${platform} (CUDA needs Linux x64 or Windows x64)` },
    {
      test: (e) =>
        has(e.providerLibraries, lib(/^libonnxruntime_providers_cuda\.so$/, /^onnxruntime_providers_cuda\.dll$/i)) &&
        has(e.providerLibraries, lib(/^libonnxruntime_providers_shared\.so$/, /^onnxruntime_providers_shared\.dll$/i)),
      missing: `the ONNX Runtime CUDA provider libraries (${INSTALL_PROVIDERS})`,
    },
    { test: (e) => e.gpu, missing: 'an NVIDIA GPU with its driver (no /dev/nvidia0, /proc/driver/nvidia or libcuda found)' },
    { test: (e) => has(e.runtimeLibraries, lib(/^libcudart\.so\.12/, /^cudart64_12\.dll$/i)), missing: 'the CUDA 12 runtime (libcudart.so.12; install the CUDA 12 toolkit or the cuda-cudart-12 package)' },
    { test: (e) => has(e.runtimeLibraries, lib(/^libcublasLt?\.so\.12/, /^cublas64_12\.dll$/i)), missing: 'cuBLAS for CUDA 12 (libcublas.so.12 / libcublasLt.so.12)' },
    { test: (e) => has(e.runtimeLibraries, lib(/^libcufft\.so\.11/, /^cufft64_11\.dll$/i)), missing: 'cuFFT for CUDA 12 (libcufft.so.11)' },
    { test: (e) => has(e.runtimeLibraries, lib(/^libcudnn\.so\.9/, /^cudnn64_9\.dll$/i)), missing: 'cuDNN 9 for CUDA 12 (libcudnn.so.9)' },
  ];
}

function tensorrtRequirements(platform: NodeJS.Platform): Requirement[] {
  const win = platform === 'win32';
  return [
    ...cudaRequirements(platform),
    {
      test: (e) => has(e.providerLibraries, win ? /^onnxruntime_providers_tensorrt\.dll$/i : /^libonnxruntime_providers_tensorrt\.so$/),
      missing: `the ONNX Runtime TensorRT provider library (${INSTALL_PROVIDERS})`,
    },
    { test: (e) => has(e.runtimeLibraries, win ? /^nvinfer_10\.dll$/i : /^libnvinfer\.so\.10/), missing: 'TensorRT 10 (libnvinfer.so.10)' },
  ];
}

/** What keeps `provider` from running here (empty when it can). */
export function missingForProvider(provider: ProviderName, env: ProviderEnvironment): string[] {
  if (provider === 'cpu') return [];
  const requirements = provider === 'cuda' ? cudaRequirements(env.platform) : tensorrtRequirements(env.platform);
  return requirements.filter((r) => !r.test(env)).map((r) => r.missing);
}

/**
 * Picks the execution provider. `auto` takes CUDA when everything it needs is installed, else the CPU
 * (TensorRT is only used when asked for: it compiles an engine per model on first use). Asking for
 * `cuda` or `tensorrt` where it cannot run is `PROVIDER_UNAVAILABLE`, listing what to install.
 */
export function chooseProvider(request: ProviderRequest, env: ProviderEnvironment): ProviderChoice {
  if (request === 'cpu') return { provider: 'cpu', executionProviders: ['cpu'], reason: 'cpu requested' };
  if (request === 'auto') {
    const missing = missingForProvider('cuda', env);
    if (missing.length === 0) return { provider: 'cuda', executionProviders: ['cuda', 'cpu'], reason: 'auto: CUDA libraries and GPU found; using cuda' };
    return { provider: 'cpu', executionProviders: ['cpu'], reason: `auto: CUDA not available (missing ${missing.join('; ')}); using cpu` };
  }
  const missing = missingForProvider(request, env);
  if (missing.length > 0) {
    throw new HolocaseError(
      'PROVIDER_UNAVAILABLE',
      `the ${request} execution provider was requested but cannot run on this server: missing ${missing.join('; ')}. Use --provider cpu (or auto) meanwhile.`,
    );
  }
  const executionProviders: ProviderName[] = request === 'tensorrt' ? ['tensorrt', 'cuda', 'cpu'] : ['cuda', 'cpu'];
  return { provider: request, executionProviders, reason: `${request} requested; libraries and GPU found` };
}

/** The request from an option, else `HOLOCASE_PROVIDER`, else `auto`; anything else is a clear error. */
export function providerRequest(value: string | undefined = process.env.HOLOCASE_PROVIDER): ProviderRequest {
  const v = (value ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(PROVIDER_REQUESTS as readonly string[]).includes(v)) {
    throw new HolocaseError('BAD_REQUEST', `unknown execution provider "${value}"; use one of ${PROVIDER_REQUESTS.join(', ')}`);
  }
  return v as ProviderRequest;
}

/** Folders the dynamic loader searches, as far as we can tell without loading anything. */
function librarySearchDirs(platform: NodeJS.Platform): string[] {
  const dirs = new Set<string>();
  const envPath = platform === 'win32' ? process.env.PATH : process.env.LD_LIBRARY_PATH;
  for (const d of (envPath ?? '').split(platform === 'win32' ? ';' : ':')) if (d) dirs.add(d);
  if (platform === 'linux') {
    for (const d of ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib', '/usr/lib/wsl/lib']) dirs.add(d);
  }
  if (platform === 'win32' && process.env.CUDA_PATH) dirs.add(join(process.env.CUDA_PATH, 'bin'));
  return [...dirs];
}

const RUNTIME_PATTERN = /^(lib)?(cudart|cublas|cublasLt|cufft|cudnn|nvinfer|cuda)[._0-9a-zA-Z-]*\.(so(\.\d+)*|dll)$/;

function listLibraries(dirs: string[], pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (pattern.test(name)) found.add(name);
  }
  return [...found];
}

/** Libraries in the loader cache (`ldconfig -p`), Linux only; empty when ldconfig cannot be run. */
function ldconfigLibraries(): string[] {
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const text = execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      return text
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[0])
        .filter((name) => name && RUNTIME_PATTERN.test(name));
    } catch {
      // try the next location
    }
  }
  return [];
}

/** Looks at this machine: onnxruntime-node's backends, its provider libraries, NVIDIA libraries and devices. */
export const detectProviderEnvironment: ProviderDetector = () => {
  const platform = process.platform;
  const require = createRequire(import.meta.url);
  let backends: ProviderEnvironment['backends'] = [];
  let providerLibraries: string[] = [];
  try {
    const ort = require('onnxruntime-node') as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
    backends = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
    const bindingDir = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', platform, process.arch);
    providerLibraries = listLibraries([bindingDir], /providers/);
  } catch {
    backends = [];
  }
  const dirs = librarySearchDirs(platform);
  const runtimeLibraries = [...new Set([...listLibraries(dirs, RUNTIME_PATTERN), ...(platform === 'linux' ? ldconfigLibraries() : [])])];
  const gpu =
    existsSync('/dev/nvidia0') ||
    existsSync('/proc/driver/nvidia/version') ||
    existsSync('/dev/dxg') ||
    runtimeLibraries.some((n) => /^(libcuda\.so\.1|nvcuda\.dll)$/i.test(n)) ||
    (platform === 'win32' && existsSync('C:\\Windows\\System32\\nvcuda.dll'));
  return { platform, backends, providerLibraries, runtimeLibraries, gpu };
};
