/**
 * Execution provider choice. There is no GPU here, so the choice is tested with described environments
 * (what a GPU host with and without each library looks like) and with this machine for real.
 */
import { describe, expect, it } from 'vitest';
import { isHolocaseError } from '../../server/errors.ts';
import { chooseProvider, detectProviderEnvironment, missingForProvider, providerRequest, type ProviderEnvironment } from '../../server/segment/providers.ts';

const BACKENDS = [
  { name: 'cpu', bundled: true },
  { name: 'webgpu', bundled: true },
  { name: 'cuda', bundled: false },
  { name: 'tensorrt', bundled: false },
];
const CUDA_RUNTIME = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9', 'libcuda.so.1'];
const ORT_PROVIDERS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'];

/** A Linux GPU host with everything installed (TensorRT too). */
const gpuHost: ProviderEnvironment = { platform: 'linux', backends: BACKENDS, providerLibraries: ORT_PROVIDERS, runtimeLibraries: [...CUDA_RUNTIME, 'libnvinfer.so.10'], gpu: true };

function without(env: ProviderEnvironment, change: Partial<ProviderEnvironment>): ProviderEnvironment {
  return { ...env, ...change };
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isHolocaseError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('choosing the execution provider', () => {
  it('auto takes CUDA on a complete GPU host, with the CPU behind it for unsupported nodes', () => {
    const choice = chooseProvider('auto', gpuHost);
    expect(choice.provider).toBe('cuda');
    expect(choice.executionProviders).toEqual(['cuda', 'cpu']);
    expect(choice.reason).toMatch(/auto: CUDA libraries and GPU found/);
  });

  it('auto falls back to the CPU and says what is missing', () => {
    const cases: [Partial<ProviderEnvironment>, RegExp][] = [
      [{ providerLibraries: [] }, /ONNX Runtime CUDA provider libraries \(run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`/],
      [{ gpu: false }, /NVIDIA GPU with its driver/],
      [{ runtimeLibraries: CUDA_RUNTIME.filter((l) => !l.startsWith('libcudnn')) }, /cuDNN 9/],
      [{ runtimeLibraries: CUDA_RUNTIME.filter((l) => !l.startsWith('libcudart')) }, /CUDA 12 runtime/],
      [{ backends: [{ name: 'cpu', bundled: true }], platform: 'darwin' }, /no CUDA backend on darwin/],
    ];
    for (const [change, reason] of cases) {
      const choice = chooseProvider('auto', without(gpuHost, change));
      expect(choice.provider).toBe('cpu');
      expect(choice.executionProviders).toEqual(['cpu']);
      expect(choice.reason).toMatch(reason);
      expect(choice.reason).toMatch(/using cpu$/);
    }
  });

  it('asking for cuda where it cannot run is PROVIDER_UNAVAILABLE telling the admin what to install', () => {
    const { code, message } = refusal(() => chooseProvider('cuda', without(gpuHost, { providerLibraries: [], runtimeLibraries: ['libcuda.so.1'] })));
    expect(code).toBe('PROVIDER_UNAVAILABLE');
    expect(message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    expect(message).toMatch(/cuDNN 9/);
    expect(message).toMatch(/--provider cpu/);
  });

  it('tensorrt needs TensorRT on top of CUDA and keeps CUDA and CPU behind it', () => {
    expect(chooseProvider('tensorrt', gpuHost).executionProviders).toEqual(['tensorrt', 'cuda', 'cpu']);
    const { message } = refusal(() => chooseProvider('tensorrt', without(gpuHost, { runtimeLibraries: CUDA_RUNTIME })));
    expect(message).toMatch(/TensorRT 10/);
    expect(chooseProvider('auto', gpuHost).provider).toBe('cuda'); // auto never picks TensorRT
  });

  it('Windows hosts are judged by their DLL names', () => {
    const windows: ProviderEnvironment = {
      platform: 'win32',
      backends: BACKENDS,
      providerLibraries: ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll'],
      runtimeLibraries: ['cudart64_12.dll', 'cublas64_12.dll', 'cufft64_11.dll', 'cudnn64_9.dll'],
      gpu: true,
    };
    expect(missingForProvider('cuda', windows)).toEqual([]);
  });

  it('cpu is always available', () => {
    const bare: ProviderEnvironment = { platform: 'linux', backends: [], providerLibraries: [], runtimeLibraries: [], gpu: false };
    expect(chooseProvider('cpu', bare)).toEqual({ provider: 'cpu', executionProviders: ['cpu'], reason: 'cpu requested' });
  });

  it('the request comes from the option, else HOLOCASE_PROVIDER, else auto; nonsense is refused', () => {
    expect(providerRequest('CUDA')).toBe('cuda');
    expect(providerRequest(undefined)).toBe(process.env.HOLOCASE_PROVIDER ? providerRequest(process.env.HOLOCASE_PROVIDER) : 'auto');
    expect(providerRequest('')).toBe('auto');
    expect(refusal(() => providerRequest('gpu')).message).toMatch(/unknown execution provider "gpu"; use one of auto, cpu, cuda, tensorrt/);
  });
});

describe('this machine', () => {
  it('is seen as it is: onnxruntime-node lists cuda as not bundled, and auto runs on the CPU unless CUDA is really installed', () => {
    const env = detectProviderEnvironment();
    expect(env.backends).toEqual(expect.arrayContaining([{ name: 'cpu', bundled: true }]));
    if (env.platform === 'linux' && process.arch === 'x64') expect(env.backends).toEqual(expect.arrayContaining([{ name: 'cuda', bundled: false }]));
    const choice = chooseProvider('auto', env);
    if (missingForProvider('cuda', env).length > 0) {
      expect(choice.provider).toBe('cpu');
      expect(refusal(() => chooseProvider('cuda', env)).code).toBe('PROVIDER_UNAVAILABLE');
    } else {
      expect(choice.provider).toBe('cuda');
    }
  });
});
