from pardot_frames.cli.main import run

run()
