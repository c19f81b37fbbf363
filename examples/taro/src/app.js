import { Component } from 'react';
import { createChatSession } from './chat';

class App extends Component {
  // Taro.getApp().createChatSession: the chat logic, reachable from any page (and from tests).
  taroGlobalData = { createChatSession };

  render() {
    return this.props.children;
  }
}

export default App;
