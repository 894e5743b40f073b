"""The FastAPI sidecar: user intents in, strategy configs out, events streamed back."""
