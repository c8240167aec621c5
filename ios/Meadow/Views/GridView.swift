import MeadowKit
import SwiftUI

/// The day as a grid: venues as columns, time running down, events that overlap at one venue side
/// by side in the lanes the core gave them (`DayRow.lane` of `DayRow.lanes`).
struct GridView: View {
    let view: DayView
    let clock: FestivalClock
    let now: Int64

    // Scaled with Dynamic Type, so the labels fit at every text size.
    @ScaledMetric(relativeTo: .caption) private var hour: CGFloat = 72
    @ScaledMetric(relativeTo: .caption) private var column: CGFloat = 132
    @ScaledMetric(relativeTo: .caption) private var axis: CGFloat = 48
    @ScaledMetric(relativeTo: .caption) private var header: CGFloat = 32

    private var from: Int64 { ((view.rows.map(\.start).min() ?? 0) / 3600) * 3600 }
    private var to: Int64 { view.rows.map { max($0.end, $0.start + 900) }.max() ?? from + 3600 }
    private var hours: Int { min(max(Int((to - from + 3599) / 3600), 1), 48) }
    private var columns: Int { view.venues.count + (view.rows.contains { $0.venue == nil } ? 1 : 0) }

    private func y(_ secs: Int64) -> CGFloat { hour * CGFloat(secs - from) / 3600 }

    var body: some View {
        ScrollViewReader { proxy in
            ScrollView([.horizontal, .vertical]) {
                VStack(alignment: .leading, spacing: 0) {
                    venueHeader
                    ZStack(alignment: .topLeading) {
                        hourLines
                        ForEach(view.rows, id: \.id) { row in cell(row) }
                        if now >= from && now <= to {
                            // alignmentGuide's closure is @Sendable: it gets the value, not the view.
                            let top = -y(now)
                            Rectangle()
                                .fill(Color.red)
                                .frame(width: axis + column * CGFloat(columns), height: 2)
                                .alignmentGuide(.top) { _ in top }
                                .accessibilityHidden(true)
                                .id("now")
                        }
                    }
                    .frame(
                        width: axis + column * CGFloat(columns), height: hour * CGFloat(hours), alignment: .topLeading)
                }
            }
            .accessibilityIdentifier("programme-grid")
            .onAppear {
                if now >= from && now <= to { proxy.scrollTo("now", anchor: .center) }
            }
        }
    }

    private var venueHeader: some View {
        HStack(spacing: 0) {
            Color.clear.frame(width: axis, height: header)
            ForEach(Array(view.venues.enumerated()), id: \.offset) { _, venue in
                Text(venue)
                    .font(.caption.weight(.semibold))
                    .lineLimit(1)
                    .padding(4)
                    .frame(width: column, height: header, alignment: .leading)
            }
            if columns > view.venues.count {
                Text(verbatim: "—").frame(width: column, height: header)
            }
        }
    }

    private var hourLines: some View {
        ForEach(0..<hours, id: \.self) { h in
            HStack(spacing: 0) {
                Text(clock.time(from + Int64(h) * 3600))
                    .font(.caption2.monospacedDigit())
                    .foregroundStyle(.secondary)
                    .frame(width: axis, alignment: .leading)
                    .padding(.leading, 4)
                Rectangle().fill(Color.secondary.opacity(0.25)).frame(height: 1)
            }
            .offset(y: y(from + Int64(h) * 3600))
        }
    }

    private func cell(_ row: DayRow) -> some View {
        let col = row.venue.map { Int($0) } ?? view.venues.count
        let lanes = CGFloat(max(row.lanes, 1))
        let width = column / lanes
        let top = y(row.start)
        let height = max(y(max(row.end, row.start + 900)) - top, 28)
        let tint = row.official ? Color.green : Color.orange
        return NavigationLink(value: Route.event(row.id)) {
            VStack(alignment: .leading, spacing: 2) {
                Text(row.title)
                    .font(.caption.weight(.medium))
                    .strikethrough(row.cancelled)
                    .lineLimit(3)
                Text(clock.time(row.start)).font(.caption2.monospacedDigit())
            }
            .foregroundStyle(Color.primary)
            .padding(4)
            .frame(width: width - 4, height: height - 2, alignment: .topLeading)
            .background(tint.opacity(row.cancelled ? 0.1 : 0.25), in: RoundedRectangle(cornerRadius: 6))
            .overlay {
                if row.favourite {
                    RoundedRectangle(cornerRadius: 6).strokeBorder(Color.orange, lineWidth: 2)
                }
            }
        }
        .buttonStyle(.plain)
        .offset(x: axis + column * CGFloat(col) + width * CGFloat(row.lane) + 2, y: top + 1)
        .accessibilityElement(children: .combine)
        .accessibilityIdentifier("cell-\(row.id)")
    }
}
