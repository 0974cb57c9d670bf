import FieldWire
import Foundation
import Hummingbird
import LocalAPIContract
import Logging
import NIOCore
import Store
import Watchlist

/// An error as the local API answers it: an HTTP status and an `APIErrorBody`. Subsystem
/// errors are mapped here, once, to stable wire codes (docs/api/openapi.yaml lists them).
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// Seconds, for a `Retry-After` header.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, retryAfter: Int? = nil) {
        (self.status, self.code, self.message, self.field, self.retryAfter) = (status, code, message, field, retryAfter)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONBody.response(APIErrorBody(code: code, message: message, field: field), status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// The one mapping from what the layers below throw to the wire.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as InputError: return APIError(.badRequest, e.code.rawValue, e.message, field: e.field)
        case let e as StoreError:
            switch e.code {
            case .notFound: return APIError(.serviceUnavailable, e.code.rawValue, "the lists are not available: \(e.message)")
            case .unavailable: return APIError(.serviceUnavailable, e.code.rawValue, "the lists are not available: \(e.message)")
            case .expired: return APIError(.serviceUnavailable, e.code.rawValue, e.message)
            case .locked: return APIError(.init(code: 423, reasonPhrase: "Locked"), e.code.rawValue, e.message)
            case .full: return APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), e.code.rawValue, e.message)
            case .busy: return APIError(.conflict, e.code.rawValue, e.message)
            default: return APIError(.internalServerError, e.code.rawValue, "the terminal's database failed; see the daemon log")
            }
        case let e as SessionError:
            switch e.code {
            case .none, .inUse: return APIError(e.code == .none ? .forbidden : .conflict, e.code.rawValue, e.message)
            case .badCredentials, .otpRequired, .badOTP, .pinRequired: return APIError(.unauthorized, e.code.rawValue, e.message)
            case .locked: return APIError(.init(code: 423, reasonPhrase: "Locked"), e.code.rawValue, e.message)
            case .lockedOut: return APIError(.tooManyRequests, e.code.rawValue, e.message)
            case .suspended, .wrongUnit: return APIError(.forbidden, e.code.rawValue, e.message)
            case .noRoster: return APIError(.serviceUnavailable, e.code.rawValue, e.message)
            }
        case let e as LockoutError:
            return APIError(.tooManyRequests, SessionErrorCode.lockedOut.rawValue, e.message, retryAfter: e.seconds)
        case let e as CredentialError: return APIError(.badRequest, "input.pin", e.message, field: "pin")
        case let e as DispatchError:
            switch e.code {
            case .unknown: return APIError(.notFound, e.code.rawValue, e.message)
            case .invalidTransition: return APIError(.conflict, e.code.rawValue, e.message, field: "status")
            case .disposition: return APIError(.badRequest, e.code.rawValue, e.message, field: "disposition")
            case .cancelled, .reassigned: return APIError(.conflict, e.code.rawValue, e.message, field: "status")
            }
        case let e as FieldOperationError:
            switch e.code {
            case .noEmergency, .incidentOpen, .incidentClosed, .outcomeRecorded, .notAHit: return APIError(.conflict, e.code.rawValue, e.message)
            case .unknownIncident, .unknownCheck: return APIError(.notFound, e.code.rawValue, e.message)
            }
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "request.too-large", "the request body is too large")
        case let e as HTTPError:
            switch e.status {
            case .contentTooLarge: return APIError(.contentTooLarge, "request.too-large", "the request body is too large")
            case .notFound: return APIError(.notFound, "request.not-found", "no such path")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "request.method-not-allowed", "method not allowed on this path")
            default: return APIError(e.status, "request.http-\(e.status.code)", e.body ?? e.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, "internal", "internal error; see the daemon log")
        }
    }
}

/// Maps every error a handler throws (and unmatched paths) to the JSON error form; one bad
/// request never takes the server down. A known path asked with another method is 405 with
/// `Allow`; a 413 tells the client the connection closes (`BodyLimitHandler` closes it).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var mapped = APIError.from(error)
            let allowed = mapped.status == .notFound && mapped.code == "request.not-found" ? routes.methods(for: request.uri.path) : []
            if !allowed.isEmpty {
                mapped = APIError(.methodNotAllowed, "request.method-not-allowed", "\(request.method.rawValue) is not allowed on this path (allowed: \(allowed.joined(separator: ", ")))")
            }
            // Internal errors are the daemon's fault and logged as such; the named conditions
            // (lists unavailable, disk full) are reported by health and status already.
            if mapped.status == .internalServerError {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            } else if mapped.status.code >= 500 {
                context.logger.notice("request refused", metadata: ["path": "\(request.uri.path)", "code": "\(mapped.code)"])
            }
            let language = request.language
            if language != .english, let words = MessageCatalogue.translation(of: mapped.code, in: language) {
                mapped.message = words
            }
            var response = try mapped.response(from: request, context: context)
            if !allowed.isEmpty { response.headers[.allow] = allowed.joined(separator: ", ") }
            if mapped.status == .contentTooLarge { response.headers[.connection] = "close" }
            return response
        }
    }
}

extension Request {
    /// The language the client asked for (`Accept-Language`), English when none of ours.
    var language: MessageLanguage { MessageLanguage(acceptLanguage: headers[.acceptLanguage]) }
}

/// JSON out, in the wire coding.
enum JSONBody {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? WireJSON.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Request bodies in: read with a cap, then decoded strictly as their `StrictRequest` type —
/// an object, only the documented fields, each of the documented type; the first bad one is
/// named in the error.
struct RequestReader: Sendable {
    let maxBytes: Int

    func read<T: StrictRequest>(_ type: T.Type, _ request: Request, logger: Logger) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch {
            // The client went away mid-body: nobody reads the answer, and it is no fault here.
            logger.debug("request body aborted", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.badRequest, "request.aborted", "the request body ended early")
        }
        return try Self.decode(type, Data(buffer: buffer))
    }

    static func decode<T: StrictRequest>(_ type: T.Type, _ data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError(.badRequest, "request.bad-json", "the body must be a JSON object") }
        let keys: [String], nulls: [String]
        do {
            (keys, nulls) = try WireJSON.decode(KeyList.self, from: data).fields
        } catch DecodingError.typeMismatch {
            throw APIError(.badRequest, "request.bad-json", "the body must be a JSON object")
        } catch {
            throw APIError(.badRequest, "request.bad-json", "the body is not valid JSON")
        }
        if let unknown = keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw APIError(.badRequest, "request.unknown-field", "unknown field (allowed: \(T.fields.sorted().joined(separator: ", ")))",
                           field: unknown)
        }
        if let null = nulls.sorted().first {
            throw APIError(.badRequest, "request.missing-field", "null is not a value (leave an optional field out)", field: null)
        }
        do {
            return try WireJSON.decode(type, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError(.badRequest, "request.missing-field", "required", field: key.stringValue)
        } catch DecodingError.valueNotFound(_, let context) {
            throw APIError(.badRequest, "request.missing-field", "required", field: context.codingPath.last?.stringValue)
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw APIError(.badRequest, "request.wrong-type", "must be \(expected == String.self ? "a string" : "\(expected)")",
                           field: context.codingPath.last?.stringValue)
        } catch {
            throw APIError(.badRequest, "request.bad-json", "the body does not match the request (\(error))")
        }
    }

    /// The top-level keys of a JSON object, and those whose value is null (anything but an
    /// object fails with a type mismatch).
    private struct KeyList: Decodable {
        var fields: (keys: [String], nulls: [String])

        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            fields = (container.allKeys.map(\.stringValue), try container.allKeys.filter { try container.decodeNil(forKey: $0) }.map(\.stringValue))
        }
    }
}
