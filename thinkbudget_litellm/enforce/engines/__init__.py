"""One module per engine family, each defining one ``EngineAdapter`` registered with
``engine_registry.register``. The registry imports every module here."""
