import MeadowKit
import SwiftUI

/// The festivals screen while none is open, else the open festival's tabs; the texts in the
/// app's language for every screen below.
struct RootView: View {
    @Environment(AppModel.self) private var app
    @Environment(DeviceServices.self) private var device
    @Environment(\.locale) private var locale

    var body: some View {
        Group {
            if let model = app.current {
                FestivalTabs(model: model).id(model.festival)
            } else {
                NavigationStack { FestivalsView() }
            }
        }
        .environment(\.texts, Texts(locale: locale))
        .onChange(of: app.current?.festival) { _, festival in device.follow(festival) }
        .alert("Meadow", isPresented: problemShown) {
            Button("OK") { device.linkProblem = nil }
        } message: {
            Text(device.linkProblem ?? "")
        }
    }

    private var problemShown: Binding<Bool> {
        Binding(
            get: { @MainActor in device.linkProblem != nil },
            set: { @MainActor in if !$0 { device.linkProblem = nil } })
    }
}

/// The five tabs.
enum AppTab: Hashable {
    case programme
    case now
    case mine
    case changes
    case more
}

/// The open festival: five tabs, each its own navigation stack, and the newest emergency over
/// all of them.
struct FestivalTabs: View {
    let model: FestivalModel
    @Environment(AppModel.self) private var app
    @Environment(DeviceServices.self) private var device
    @State private var tab: AppTab = .programme
    @State private var paths: [AppTab: [Route]] = [:]

    var body: some View {
        VStack(spacing: 0) {
            if let emergency = model.emergency {
                EmergencyBanner(announcement: emergency) { open(.announcements) }
            }
            TabView(selection: $tab) {
                stack(.programme, title: Text(model.info?.fields.name ?? "")) { ProgrammeView(model: model) }
                    .tabItem { Label("Lineup", systemImage: "calendar") }
                    .tag(AppTab.programme)
                stack(.now, title: Text("Now & next")) { NowNextView(model: model) }
                    .tabItem { Label("Now", systemImage: "clock") }
                    .tag(AppTab.now)
                stack(.mine, title: Text("My schedule")) { MyScheduleView(model: model) }
                    .tabItem { Label("Mine", systemImage: "star") }
                    .tag(AppTab.mine)
                stack(.changes, title: Text("Changes")) { ChangesView(model: model) }
                    .tabItem { Label("Changes", systemImage: "clock.arrow.circlepath") }
                    .tag(AppTab.changes)
                    .badge(model.changeBadge ?? 0)
                stack(.more, title: Text("More")) { MoreView(model: model) }
                    .tabItem { Label("More", systemImage: "line.3.horizontal") }
                    .tag(AppTab.more)
            }
        }
        .task(id: model.version) {
            // Once the feed settles: reminders follow favourites moved or unmarked.
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            if !Task.isCancelled { await device.notifications.plan(model: model, node: app.node) }
        }
        .onAppear { openRequestedEvent() }
        .onChange(of: device.eventToOpen) { _, _ in openRequestedEvent() }
    }

    private func openRequestedEvent() {
        guard let event = device.eventToOpen else { return }
        device.eventToOpen = nil
        tab = .programme
        paths[.programme, default: []].append(.event(event))
    }

    private func open(_ route: Route) {
        paths[tab, default: []].append(route)
    }

    private func path(_ tab: AppTab) -> Binding<[Route]> {
        Binding(get: { @MainActor in paths[tab] ?? [] }, set: { @MainActor in paths[tab] = $0 })
    }

    private func stack<Content: View>(_ tab: AppTab, title: Text, @ViewBuilder root: () -> Content) -> some View {
        NavigationStack(path: path(tab)) {
            root()
                .navigationBarTitleDisplayMode(.inline)
                .toolbar {
                    ToolbarItem(placement: .principal) {
                        title.font(.headline).lineLimit(1).accessibilityIdentifier("festival-name")
                    }
                    ToolbarItemGroup(placement: .topBarTrailing) {
                        Button {
                            open(.search)
                        } label: {
                            Image(systemName: "magnifyingglass")
                        }
                        .accessibilityLabel("Search")
                        .accessibilityIdentifier("open-search")
                        Button {
                            open(.edit(nil))
                        } label: {
                            Image(systemName: "plus")
                        }
                        .accessibilityLabel("Add event")
                        .accessibilityIdentifier("open-add")
                    }
                }
                .navigationDestination(for: Route.self) { route in
                    RouteView(route: route, model: model)
                }
        }
    }
}

/// The screen for a route.
struct RouteView: View {
    let route: Route
    let model: FestivalModel

    var body: some View {
        switch route {
        case .event(let id): EventDetailView(model: model, event: id)
        case .edit(let id): EventFormView(model: model, event: id)
        case .search: SearchView(model: model)
        case .announcements: AnnouncementsView(model: model)
        case .organiser: OrganiserView(model: model)
        case .invite: InviteView()
        case .sync: SyncView(model: model)
        case .identity: IdentityView()
        case .crews: CrewsView(model: model)
        case .festivals: FestivalsView()
        }
    }
}

/// Everything else, as a list.
struct MoreView: View {
    let model: FestivalModel

    var body: some View {
        List {
            NavigationLink(value: Route.announcements) { Label("Announcements", systemImage: "megaphone") }
                .accessibilityIdentifier("more-announcements")
            NavigationLink(value: Route.crews) { Label("Crews", systemImage: "person.3") }
                .accessibilityIdentifier("more-crews")
            if model.isOrganiser {
                NavigationLink(value: Route.organiser) {
                    Label("Organiser tools", systemImage: "wrench.and.screwdriver")
                }
                .accessibilityIdentifier("more-organiser")
            }
            NavigationLink(value: Route.invite) { Label("Invite", systemImage: "qrcode") }
                .accessibilityIdentifier("more-invite")
            NavigationLink(value: Route.sync) { Label("Sync", systemImage: "arrow.triangle.2.circlepath") }
                .accessibilityIdentifier("more-sync")
            NavigationLink(value: Route.identity) { Label("Identity", systemImage: "person.text.rectangle") }
                .accessibilityIdentifier("more-identity")
            NavigationLink(value: Route.festivals) { Label("Festivals", systemImage: "tent") }
                .accessibilityIdentifier("more-festivals")
        }
        .accessibilityIdentifier("more")
    }
}
