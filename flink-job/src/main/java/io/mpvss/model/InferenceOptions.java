package io.mpvss.model;

import java.io.Serializable;
import java.util.Locale;

/** How ONNX Runtime sessions are built: execution device and CPU thread count. */
public final class InferenceOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Execution device. */
    public enum Device {
        /** CUDA execution provider if it loads, else CPU with one log line. */
        AUTO,
        CPU,
        /** CUDA or fail. */
        CUDA;

        /** The value as written in configuration ({@code inference.device}); Flink parses the option by it. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Device device;
    private final int threads;
    private final int cudaDeviceId;

    public InferenceOptions(Device device, int threads, int cudaDeviceId) {
        this.device = device;
        this.threads = threads;
        this.cudaDeviceId = cudaDeviceId;
    }

    /** auto device, ONNX Runtime's default thread count. */
    public static InferenceOptions defaults() {
        return new InferenceOptions(Device.AUTO, 0, 0);
    }

    public static InferenceOptions cpu() {
        return new InferenceOptions(Device.CPU, 0, 0);
    }

    public Device device() {
        return device;
    }

    /** Intra-op threads per session; 0 = ONNX Runtime's default (one per core). */
    public int threads() {
        return threads;
    }

    public int cudaDeviceId() {
        return cudaDeviceId;
    }

    String cacheKey() {
        return device + "/" + threads + "/" + cudaDeviceId;
    }

    @Override
    public String toString() {
        return "InferenceOptions{device=" + device + ", threads=" + threads + "}";
    }
}
