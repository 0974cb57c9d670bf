import FieldSync
import Foundation
import Hummingbird
import Location
import NIOCore
import Store
import Watchlist

/// An error as the local API answers it: an HTTP status and
/// `{"error": {"code": "...", "message": "...", "field": "..."}}`. Subsystem errors are
/// mapped here, once, to stable wire codes (docs/api/openapi.yaml lists them).
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: String] = ["code": code, "message": message]
        object["field"] = field
        return JSONBody.response(["error": object], status: status)
    }

    /// The one mapping from what the layers below throw to the wire.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as InputError: return APIError(.badRequest, e.code.rawValue, e.message, field: e.field)
        case let e as StoreError:
            switch e.code {
            case .notFound: return APIError(.serviceUnavailable, e.code.rawValue, "the lists are not available: \(e.message)")
            case .busy: return APIError(.conflict, e.code.rawValue, e.message)
            default: return APIError(.internalServerError, e.code.rawValue, "the terminal's database failed; see the daemon log")
            }
        case let e as DispatchError:
            switch e.code {
            case .unknown: return APIError(.notFound, e.code.rawValue, e.message)
            case .invalidTransition: return APIError(.conflict, e.code.rawValue, e.message, field: "status")
            case .disposition: return APIError(.badRequest, e.code.rawValue, e.message, field: "disposition")
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
/// request never takes the server down.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = APIError.from(error)
            if mapped.status.code >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return try mapped.response(from: request, context: context)
        }
    }
}

/// JSON in and out. Request bodies are read with a cap and checked strictly: an object,
/// only the documented fields, each of the documented type — a bad one is named.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request's JSON object, with only `allowed` fields.
    static func object(_ request: Request, maxBytes: Int, allowed: Set<String>) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBytes)
        guard buffer.readableBytes > 0 else { throw APIError(.badRequest, "request.bad-json", "the body must be a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(buffer: buffer), options: [])
        } catch {
            throw APIError(.badRequest, "request.bad-json", "the body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw APIError(.badRequest, "request.bad-json", "the body must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError(.badRequest, "request.unknown-field", "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))", field: unknown)
        }
        return object
    }

    static func string(_ object: [String: Any], _ field: String, required: Bool = true) throws -> String? {
        guard let value = object[field], !(value is NSNull) else {
            if required { throw APIError(.badRequest, "request.missing-field", "required", field: field) }
            return nil
        }
        // JSONSerialization turns true/false into NSNumber: a string is a String only.
        guard let string = value as? String, !(value is NSNumber) else {
            throw APIError(.badRequest, "request.wrong-type", "must be a string", field: field)
        }
        return string
    }
}
