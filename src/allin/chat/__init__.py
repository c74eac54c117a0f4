"""The turn pipeline: frames in, prompt built, answer streamed and stored."""
