package io.mpvss.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.admin.NewTopic;

/**
 * Topic specifications of {@code kafka-config/topics.properties}: {@code <topic>.partitions},
 * {@code <topic>.replication-factor}, {@code <topic>.config.<name>}, and {@code frames.max-bytes} (the job option),
 * from which {@code max.message.bytes} of frames and frames-dlq is derived.
 */
record TopicSpecs(List<Spec> topics, int framesMaxBytes) {

    /** The spec's copy of the job option frames.max-bytes, from which the topics' record limits are derived. */
    static final String FRAMES_MAX_BYTES = JobOptions.FRAMES_MAX_BYTES.key();

    /**
     * With {@code max.message.bytes} of {@code frames} and {@code frames-dlq} derived from {@code framesMaxBytes}
     * ({@link RecordSizes}): a frame the job accepts fits in frames, anything frames lets through fits in frames-dlq
     * with the error headers.
     */
    TopicSpecs withFramesMaxBytes(int framesMaxBytes) {
        List<Spec> r = new ArrayList<>();
        for (Spec s : topics) {
            Map<String, String> c = new TreeMap<>(s.configs());
            if (s.name().equals(WireFormat.DEFAULT_FRAMES_TOPIC)) {
                c.put(MAX_MESSAGE_BYTES, String.valueOf(RecordSizes.framesTopicBytes(framesMaxBytes)));
            } else if (s.name().equals(WireFormat.DEFAULT_DLQ_TOPIC)) {
                c.put(MAX_MESSAGE_BYTES, String.valueOf(RecordSizes.deadLetterBytes(framesMaxBytes)));
            }
            r.add(new Spec(s.name(), s.partitions(), s.replicationFactor(), c));
        }
        return new TopicSpecs(r, framesMaxBytes);
    }

    private static final String MAX_MESSAGE_BYTES = "max.message.bytes";

    /** A frames.max-bytes value the job accepts, else a usage error naming the option and the accepted range. */
    static int checkedFramesMaxBytes(int framesMaxBytes) {
        try {
            return RecordSizes.checked(framesMaxBytes);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** One topic. */
    record Spec(String name, int partitions, short replicationFactor, Map<String, String> configs) {

        /** With overrides (null = keep); {@code min.insync.replicas} is capped at the replication factor. */
        Spec with(Integer partitionsOverride, Short rfOverride) {
            int p = partitionsOverride != null ? partitionsOverride : partitions;
            short rf = rfOverride != null ? rfOverride : replicationFactor;
            Map<String, String> c = new LinkedHashMap<>(configs);
            String minIsr = c.get("min.insync.replicas");
            if (minIsr != null && Integer.parseInt(minIsr.trim()) > rf) {
                c.put("min.insync.replicas", String.valueOf(rf));
            }
            return new Spec(name, p, rf, c);
        }

        NewTopic toNewTopic() {
            return new NewTopic(name, partitions, replicationFactor).configs(configs);
        }
    }

    /** {@code --spec FILE}, else the repository's kafka-config/topics.properties. */
    static Path specFile(Args args) {
        return RepoPaths.resolve(args.get("spec", null), "kafka-config/topics.properties");
    }

    /** The topics of a spec file; a usage error if there is no such file. */
    static TopicSpecs read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("no topic spec file: " + file);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return parse(p, file.toString());
    }

    static TopicSpecs parse(Properties p, String what) {
        // topic order: as the *.partitions keys sort, frames first by convention of the file
        Map<String, Integer> partitions = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            if (k.endsWith(".partitions")) {
                String t = k.substring(0, k.length() - ".partitions".length());
                try {
                    partitions.put(t, Integer.parseInt(p.getProperty(k).trim()));
                } catch (NumberFormatException e) {
                    throw new UsageException(what + ": " + k + " is not a number");
                }
            }
        }
        if (partitions.isEmpty()) {
            throw new UsageException(what + ": no <topic>.partitions entries");
        }
        List<Spec> specs = new ArrayList<>();
        for (Map.Entry<String, Integer> e : partitions.entrySet()) {
            String t = e.getKey();
            short rf = Short.parseShort(p.getProperty(t + ".replication-factor", "1").trim());
            Map<String, String> configs = new TreeMap<>();
            String prefix = t + ".config.";
            for (String k : p.stringPropertyNames()) {
                if (k.startsWith(prefix)) {
                    configs.put(k.substring(prefix.length()), p.getProperty(k).trim());
                }
            }
            specs.add(new Spec(t, e.getValue(), rf, configs));
        }
        int framesMaxBytes = JobOptions.FRAMES_MAX_BYTES.defaultValue();
        String f = p.getProperty(FRAMES_MAX_BYTES);
        if (f != null) {
            try {
                framesMaxBytes = RecordSizes.checked(Integer.parseInt(f.trim()));
            } catch (IllegalArgumentException e) {
                throw new UsageException(what + ": " + FRAMES_MAX_BYTES + " must be bytes between "
                        + RecordSizes.MIN_FRAME_BYTES + " and " + RecordSizes.MAX_FRAME_BYTES + ", found '" + f + "'");
            }
        }
        return new TopicSpecs(specs, framesMaxBytes).withFramesMaxBytes(framesMaxBytes);
    }
}
