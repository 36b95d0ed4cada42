-- The `masks` topic as a Flink SQL table (Flink 2.2, Kafka table connector, JSON format); see docs/sql.md.
-- Columns follow kafka-config/masks.schema.json. Run in Flink's SQL client with flink-sql-connector-kafka on its
-- classpath, after setting the bootstrap servers:
--   ALTER TABLE masks SET ('properties.bootstrap.servers' = 'broker:9092');
-- A finite read (replays, tests): ALTER TABLE masks SET ('scan.bounded.mode' = 'latest-offset');

CREATE TABLE masks (
  `schema`          STRING,
  `stream`          STRING,
  `seq`             BIGINT,
  `capture_ts`      BIGINT,                        -- capture time, epoch ms (as in the JSON)
  `key_frame`       BOOLEAN,
  `key_seq`         BIGINT,
  `key_reason`      STRING,                        -- null on propagated frames
  `model`           STRING,                        -- name@version
  `width`           INT,
  `height`          INT,
  `label_map_png`   STRING,                        -- base64 PNG, pixel = class id, 255 = no prediction
  `class_pixels`    MAP<STRING, BIGINT>,           -- pixels per class name
  `processing_ms`   DOUBLE,
  `emitted_ts`      BIGINT,
  -- capture_ts as an event time: a computed column (it cannot have the JSON field's own name with another type)
  `capture_time`    AS TO_TIMESTAMP_LTZ(`capture_ts`, 3),
  -- a stream's frames arrive in capture order, but streams (and partitions, each read at its own pace) lag each
  -- other: frames more than 30 s behind the newest one seen are late and left out of windows (docs/sql.md)
  WATERMARK FOR `capture_time` AS `capture_time` - INTERVAL '30' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'masks',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'mpvss-sql',
  -- with delivery.guarantee=exactly-once the job writes masks in transactions: read only committed ones
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json',
  -- documents may gain optional fields within mpvss.masks/1
  'json.fail-on-missing-field' = 'false',
  'json.ignore-parse-errors' = 'false'
);

-- The share of `person` pixels per stream per minute of capture time.
SELECT
  window_start,
  window_end,
  `stream`,
  COUNT(*) AS frames,
  CAST(SUM(class_pixels['person']) AS DOUBLE) / SUM(CAST(`width` AS BIGINT) * `height`) AS person_share
FROM TABLE(TUMBLE(TABLE masks, DESCRIPTOR(capture_time), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, `stream`;
