#!/usr/bin/env python3
"""Read the `masks` topic and write each frame's label map as a colour PNG.

    python3 examples/python/masks_to_png.py --bootstrap-servers localhost:9092 --out masks-png \
        --manifest model-ops/bundle/manifest.json [--idle-timeout 10] [--limit N]

Writes OUT/<stream>/<seq>.png (RGB, the class colours of the model's manifest.json; 255 = no prediction is dark
grey). Reads with isolation.level=read_committed (with the job's exactly-once delivery only committed documents
exist for a reader), drops repeats by (stream, seq) as an at-least-once reader must, and commits a record's offset
only after its PNG is written. A record that is not a mpvss.masks/1 document is not skipped silently: its bytes go
to OUT/_unreadable/<partition>-<offset>.bin and it is counted.

Needs: Python 3, confluent-kafka (Debian: python3-confluent-kafka), Pillow (python3-pil), numpy (python3-numpy).
Exit status: 0 done, 2 bad arguments or manifest, 1 Kafka failure.
"""
import argparse
import base64
import io
import json
import os
import re
import sys
import time

try:
    import numpy as np
    from PIL import Image
    from confluent_kafka import Consumer, KafkaError, KafkaException
except ImportError as e:  # one line, what to install
    sys.exit(f"masks_to_png: {e.name} is missing: apt-get install python3-confluent-kafka python3-pil python3-numpy")

SCHEMA = "mpvss.masks/1"
NO_PREDICTION_RGB = (32, 32, 32)


def load_palette(manifest_path):
    """A 256x3 uint8 lookup table: class id -> RGB, from the bundle's manifest.json (`classes`)."""
    if os.path.isdir(manifest_path):
        manifest_path = os.path.join(manifest_path, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        raise ValueError(f"cannot read {manifest_path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise ValueError(f"{manifest_path} line {e.lineno}: not JSON: {e.msg}")
    classes = manifest.get("classes")
    if not isinstance(classes, list) or not classes:
        raise ValueError(f"{manifest_path}: no \"classes\" list")
    lut = np.full((256, 3), 128, dtype=np.uint8)  # ids the manifest does not know: grey
    lut[255] = NO_PREDICTION_RGB
    names = {}
    for c in classes:
        try:
            cid, name, rgb = int(c["id"]), str(c["name"]), [int(v) for v in c["color"]]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{manifest_path}: class entries need id, name and color [r, g, b]: {c}")
        if not 0 <= cid < 255 or len(rgb) != 3:
            raise ValueError(f"{manifest_path}: bad class entry {c}")
        lut[cid] = np.clip(rgb, 0, 255)
        names[cid] = name
    return lut, names


def colour_png(doc, lut):
    """The document's label map (base64 8-bit PNG, pixel = class id) as an RGB PIL image."""
    labels = np.array(Image.open(io.BytesIO(base64.b64decode(doc["label_map_png"], validate=True))))
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"label map is not an 8-bit single-channel image ({labels.shape}, {labels.dtype})")
    if labels.shape != (doc["height"], doc["width"]):
        raise ValueError(f"label map is {labels.shape[1]}x{labels.shape[0]}, document says "
                         f"{doc['width']}x{doc['height']}")
    return Image.fromarray(lut[labels], mode="RGB")


def safe_name(stream):
    """A stream id as a folder name (ids may contain '/' or ':')."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", stream) or "_"


def main(argv=None):
    ap = argparse.ArgumentParser(description="masks topic -> colour PNGs, one per frame")
    ap.add_argument("--bootstrap-servers", default="localhost:9092")
    ap.add_argument("--topic", default="masks")
    ap.add_argument("--out", required=True, help="folder for OUT/<stream>/<seq>.png")
    ap.add_argument("--manifest", default="model-ops/bundle/manifest.json",
                    help="the model's manifest.json (or its bundle folder): class colours")
    ap.add_argument("--group-id", default="mpvss-masks-to-png")
    ap.add_argument("--limit", type=int, default=0, help="stop after N new PNGs (default: no limit)")
    ap.add_argument("--idle-timeout", type=float, default=0,
                    help="stop after this many seconds without a new document (default: run until Ctrl-C)")
    ap.add_argument("--kafka", action="append", default=[], metavar="KEY=VALUE",
                    help="any librdkafka property, e.g. security.protocol=SASL_SSL (repeatable)")
    args = ap.parse_args(argv)

    try:
        lut, _ = load_palette(args.manifest)
    except ValueError as e:
        print(f"masks_to_png: {e}", file=sys.stderr)
        return 2
    config = {
        "bootstrap.servers": args.bootstrap_servers,
        "group.id": args.group_id,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        # at-least-once: an offset is stored only once its PNG is on disk, and committed in the background
        "enable.auto.offset.store": False,
        "enable.auto.commit": True,
    }
    for kv in args.kafka:
        if "=" not in kv:
            print(f"masks_to_png: --kafka expects KEY=VALUE, got '{kv}'", file=sys.stderr)
            return 2
        k, v = kv.split("=", 1)
        config[k] = v
    os.makedirs(args.out, exist_ok=True)

    consumer = Consumer(config)
    consumer.subscribe([args.topic])
    seen = {}          # stream -> set of seqs written (repeats after an at-least-once redelivery are dropped)
    written = repeats = unreadable = 0
    last_new = time.monotonic()
    last_progress = 0.0
    try:
        while True:
            if args.limit and written >= args.limit:
                break
            if args.idle_timeout and time.monotonic() - last_new > args.idle_timeout:
                break
            msg = consumer.poll(0.5)
            now = time.monotonic()
            if now - last_progress > 2:
                print(f"masks_to_png: {written} PNGs from {len(seen)} streams, {repeats} repeats dropped, "
                      f"{unreadable} unreadable", file=sys.stderr, flush=True)
                last_progress = now
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                if msg.error().fatal() or msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise KafkaException(msg.error())
                print(f"masks_to_png: kafka: {msg.error()}", file=sys.stderr)
                continue
            last_new = now
            try:
                doc = json.loads(msg.value())
                if doc.get("schema") != SCHEMA:
                    raise ValueError(f"schema is {doc.get('schema')!r}, not {SCHEMA}")
                stream, seq = str(doc["stream"]), int(doc["seq"])
                if seq in seen.get(stream, ()):
                    repeats += 1
                    consumer.store_offsets(message=msg)
                    continue
                image = colour_png(doc, lut)
            except (ValueError, KeyError, TypeError, OSError) as e:
                unreadable += 1
                bad = os.path.join(args.out, "_unreadable")
                os.makedirs(bad, exist_ok=True)
                with open(os.path.join(bad, f"{msg.partition()}-{msg.offset()}.bin"), "wb") as f:
                    f.write(msg.value() or b"")
                print(f"masks_to_png: partition {msg.partition()} offset {msg.offset()}: not a {SCHEMA} "
                      f"document ({type(e).__name__}: {e}); kept in {bad}", file=sys.stderr)
                consumer.store_offsets(message=msg)
                continue
            folder = os.path.join(args.out, safe_name(stream))
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{seq}.png")
            image.save(path + ".tmp", format="PNG")
            os.replace(path + ".tmp", path)  # a reader never sees half a PNG
            seen.setdefault(stream, set()).add(seq)
            written += 1
            consumer.store_offsets(message=msg)
    except KeyboardInterrupt:
        pass
    except KafkaException as e:
        print(f"masks_to_png: kafka failed: {e}", file=sys.stderr)
        return 1
    finally:
        consumer.close()  # commits the stored offsets
    print(f"masks_to_png: wrote {written} PNGs of {len(seen)} streams to {args.out} "
          f"({repeats} repeats dropped, {unreadable} unreadable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
