package io.mpvss.job;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import java.util.ArrayList;
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

    /** {@code frames-dlq}: the original key, value, headers and timestamp, plus the error headers. */
    public static final class DeadLetterSerializer implements KafkaRecordSerializationSchema<FrameRecord> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        public DeadLetterSerializer(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(FrameRecord r, KafkaSinkContext ctx, Long timestamp) {
            List<Header> headers = new ArrayList<>();
            for (int i = 0; i < r.headerKeys.length; i++) {
                headers.add(new RecordHeader(r.headerKeys[i], r.headerValues[i]));
            }
            return new ProducerRecord<>(topic, null, r.timestamp >= 0 ? r.timestamp : null,
                    r.key == null ? null : WireFormat.utf8(r.key), r.value, headers);
        }
    }
}
