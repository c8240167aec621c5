import XCTest

/// Walks the main screens of the demo festival (the app honours `-meadow-demo`: a fresh store,
/// the demo festival from today, no radios or permission prompts), checking each opens and
/// taking a screenshot of each: kept with the test results, and for `fastlane snapshot`.
final class MeadowUITests: XCTestCase {
    @MainActor
    func testTheMainScreensOpen() throws {
        let app = XCUIApplication()
        app.launchArguments += ["-meadow-demo"]
        setupSnapshot(app)
        app.launch()

        XCTAssertTrue(element(app, "programme-list").waitForExistence(timeout: 60), "the demo opens on its programme")
        shoot("01Programme")

        element(app, "mode-grid").tap()
        XCTAssertTrue(element(app, "programme-grid").waitForExistence(timeout: 10), "the grid")
        shoot("02Grid")
        element(app, "mode-list").tap()
        XCTAssertTrue(element(app, "programme-list").waitForExistence(timeout: 10))

        let event = app.descendants(matching: .any)
            .matching(NSPredicate(format: "identifier BEGINSWITH 'event-' AND identifier != 'event-detail'"))
            .firstMatch
        XCTAssertTrue(event.waitForExistence(timeout: 10), "an event in the list")
        event.tap()
        XCTAssertTrue(element(app, "detail-title").waitForExistence(timeout: 10), "the event's detail")
        element(app, "detail-star").tap()
        shoot("03Event")
        back(app)

        tab(app, 2)
        XCTAssertTrue(element(app, "favourites").waitForExistence(timeout: 10), "the favourite in my schedule")
        shoot("04MySchedule")

        tab(app, 3)
        shoot("05Changes")

        tab(app, 1)
        shoot("06Now")

        tab(app, 0)
        element(app, "open-search").tap()
        let field = app.searchFields.firstMatch
        XCTAssertTrue(field.waitForExistence(timeout: 10), "the search field")
        field.tap()
        field.typeText("the")
        XCTAssertTrue(element(app, "search-results").waitForExistence(timeout: 10))
        shoot("07Search")
        back(app)

        tab(app, 4)
        more(app, "more-crews", opens: "crews", shot: "08Crews")
        more(app, "more-sync", opens: "sync", shot: "09Sync")
        more(app, "more-identity", opens: "fingerprint", shot: "10Identity")
    }

    @MainActor
    private func element(_ app: XCUIApplication, _ identifier: String) -> XCUIElement {
        app.descendants(matching: .any)[identifier].firstMatch
    }

    /// The tabs by position, whatever the language.
    @MainActor
    private func tab(_ app: XCUIApplication, _ index: Int) {
        let button = app.tabBars.buttons.element(boundBy: index)
        XCTAssertTrue(button.waitForExistence(timeout: 10))
        button.tap()
    }

    @MainActor
    private func back(_ app: XCUIApplication) {
        app.navigationBars.buttons.element(boundBy: 0).tap()
    }

    @MainActor
    private func more(_ app: XCUIApplication, _ entry: String, opens: String, shot: String) {
        let link = element(app, entry)
        XCTAssertTrue(link.waitForExistence(timeout: 10), entry)
        link.tap()
        XCTAssertTrue(element(app, opens).waitForExistence(timeout: 10), opens)
        shoot(shot)
        back(app)
    }

    /// A screenshot kept with the results, and one for fastlane snapshot.
    @MainActor
    private func shoot(_ name: String) {
        let attachment = XCTAttachment(screenshot: XCUIScreen.main.screenshot())
        attachment.name = name
        attachment.lifetime = .keepAlways
        add(attachment)
        snapshot(name)
    }
}
