import Foundation

/// What an action that writes came to: done, refused at one field of a form, or refused.
public enum Outcome<Value: Sendable>: Sendable {
    /// Done, with the core's answer.
    case done(Value)
    /// The core refused one field: a form shows `reason` beside `field`.
    case fieldError(field: String, reason: String)
    /// The core refused it for another reason, fit to show.
    case failed(String)

    /// The value if it was done.
    public var value: Value? {
        if case .done(let v) = self { return v }
        return nil
    }

    /// Why it was refused, fit to show; nil if it was done.
    public var failure: String? {
        switch self {
        case .done: return nil
        case .fieldError(let field, let reason): return "\(field): \(reason)"
        case .failed(let reason): return reason
        }
    }

    /// The reason shown beside `field` of a form, if the core refused that field.
    public func error(at field: String) -> String? {
        if case .fieldError(let f, let reason) = self, f == field { return reason }
        return nil
    }
}

extension MeadowError {
    /// The core's reason, without the case name: what a person reads.
    public var reason: String {
        switch self {
        case .Invalid(let r), .NotFound(let r), .NotPermitted(let r), .Network(let r), .Internal(let r):
            return r
        case .InvalidField(let field, let r):
            return "\(field): \(r)"
        case .NoFestival:
            return "no festival is open"
        }
    }
}

/// Runs a write and turns the core's errors into an `Outcome`. It runs in the caller's isolation
/// (a model on the main actor), so the closure may use what the caller holds.
public func outcome<T: Sendable>(
    isolation: isolated (any Actor)? = #isolation, _ write: () async throws -> T
) async -> Outcome<T> {
    do {
        return .done(try await write())
    } catch MeadowError.InvalidField(let field, let reason) {
        return .fieldError(field: field, reason: reason)
    } catch let e as MeadowError {
        return .failed(e.reason)
    } catch {
        return .failed(String(describing: error))
    }
}
