// MeadowKit re-exports the generated bindings: the app imports one module.
@_exported import MeadowBindings
