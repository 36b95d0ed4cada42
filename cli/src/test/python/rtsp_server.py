#!/usr/bin/python3
"""A small RTSP server for the camera gateway's tests: GStreamer's gst-rtsp-server (Debian packages
gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base/-good/-ugly) serving a live test pattern as an IP camera
does: H.264 over RTP, played to clients over RTP/TCP (interleaved) or RTP/UDP.

    /usr/bin/python3 rtsp_server.py PORT PATH [WIDTHxHEIGHT] [FPS]
    /usr/bin/python3 rtsp_server.py --check     (exit status 0 when every GStreamer part is installed)

Listens on 127.0.0.1:PORT and serves rtsp://127.0.0.1:PORT/PATH. Prints "ready rtsp://..." on stdout once it
accepts connections; runs until killed. A pipeline of its own for each client (a shared one crashed the 1.22 server
in gst_rtsp_media_get_rates when two clients came at once), a key frame every second, so a
client that (re)connects decodes within a second.
"""
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer
except (ImportError, ValueError) as e:
    sys.exit("rtsp_server.py: %s (Debian: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0)" % e)

ELEMENTS = ["videotestsrc", "videoconvert", "x264enc", "rtph264pay"]


def check():
    Gst.init(None)
    missing = [e for e in ELEMENTS if Gst.ElementFactory.find(e) is None]
    if missing:
        sys.exit("rtsp_server.py: GStreamer elements missing: %s (Debian: gstreamer1.0-plugins-base, -good, -ugly)"
                 % ", ".join(missing))
    print("ok")


def main():
    if sys.argv[1:] == ["--check"]:
        check()
        return
    if len(sys.argv) < 3:
        sys.exit("usage: rtsp_server.py PORT PATH [WIDTHxHEIGHT] [FPS]")
    port, path = int(sys.argv[1]), "/" + sys.argv[2].lstrip("/")
    width, height = (sys.argv[3] if len(sys.argv) > 3 else "320x240").split("x")
    fps = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=%s,height=%s,framerate=%d/1 "
        "! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=500 "
        "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        % (width, height, fps, fps))
    factory.set_shared(False)
    server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        sys.exit("rtsp_server.py: cannot listen on 127.0.0.1:%d" % port)
    print("ready rtsp://127.0.0.1:%d%s" % (port, path), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
