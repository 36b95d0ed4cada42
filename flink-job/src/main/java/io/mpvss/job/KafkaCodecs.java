package io.mpvss.job;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Kafka record <-> job type conversions (docs/formats.md). */
public final class KafkaCodecs {

    private KafkaCodecs() {}

    /** Any {@code frames} record, as is: nothing is decoded or rejected here (that is the pipeline's job). */
    public static final class FrameRecordDeserializer implements KafkaRecordDeserializationSchema<FrameRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<FrameRecord> out) {
            FrameRecord f = new FrameRecord();
            f.key = r.key() == null ? null : WireFormat.utf8(r.key());
            f.value = r.value();
            List<String> ks = new ArrayList<>();
            List<byte[]> vs = new ArrayList<>();
            for (Header h : r.headers()) {
                ks.add(h.key());
                vs.add(h.value());
            }
            f.headerKeys = ks.toArray(new String[0]);
            f.headerValues = vs.toArray(new byte[0][]);
            f.timestamp = r.timestamp();
            f.topic = r.topic();
            f.partition = r.partition();
            f.offset = r.offset();
            out.collect(f);
        }

        @Override
        public TypeInformation<FrameRecord> getProducedType() {
            return TypeInformation.of(FrameRecord.class);
        }
    }

    /** {@code masks}: key = stream id, value = the JSON document, timestamp = capture time. */
    public static final class MaskRecordSerializer implements KafkaRecordSerializationSchema<MaskDocument> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        public MaskRecordSerializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(MaskDocument d, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, null, d.getCaptureTs() >= 0 ? d.getCaptureTs() : null,
                    WireFormat.utf8(d.getStream()), d.toJson());
        }
    }

    /**
     * {@code frames-dlq}: the original key, value, headers and timestamp, plus the error headers. A dead letter larger
     * than {@code maxRecordBytes} (the sinks' max.request.size, which the dead-letter topic must accept) would fail
     * the sink and restart the job forever; its value is cut to fit instead and the header
     * {@link WireFormat#DLQ_TRUNCATED} gives the original length (docs/formats.md).
     */
    public static final class DeadLetterSerializer implements KafkaRecordSerializationSchema<FrameRecord> {
        private static final long serialVersionUID = 1L;
        /** Kafka's record-batch header (61 bytes) and a record's own varint fields, generously. */
        static final int RECORD_OVERHEAD_BYTES = 1024;
        private final String topic;
        private final int maxRecordBytes;

        public DeadLetterSerializer(String topic) {
            this(topic, RecordSizes.deadLetterBytes(JobOptions.FRAMES_MAX_BYTES.defaultValue()));
        }

        public DeadLetterSerializer(String topic, int maxRecordBytes) {
            this.topic = topic;
            this.maxRecordBytes = maxRecordBytes;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(FrameRecord r, KafkaSinkContext ctx, Long timestamp) {
            List<Header> headers = new ArrayList<>();
            byte[] key = r.key == null ? null : WireFormat.utf8(r.key);
            long size = RECORD_OVERHEAD_BYTES + (key == null ? 0 : key.length);
            for (int i = 0; i < r.headerKeys.length; i++) {
                headers.add(new RecordHeader(r.headerKeys[i], r.headerValues[i]));
                size += headerBytes(r.headerKeys[i], r.headerValues[i]);
            }
            byte[] value = r.value;
            int valueBytes = value == null ? 0 : value.length;
            if (size + valueBytes > maxRecordBytes) {
                byte[] original = WireFormat.utf8(Integer.toString(valueBytes));
                size += headerBytes(WireFormat.DLQ_TRUNCATED, original);
                int keep = (int) Math.max(0, Math.min(valueBytes, maxRecordBytes - size));
                value = Arrays.copyOf(value, keep);
                headers.add(new RecordHeader(WireFormat.DLQ_TRUNCATED, original));
            }
            return new ProducerRecord<>(topic, null, r.timestamp >= 0 ? r.timestamp : null, key, value, headers);
        }

        private static long headerBytes(String key, byte[] value) {
            return 10L + key.length() * 3L + (value == null ? 0 : value.length);
        }
    }
}
