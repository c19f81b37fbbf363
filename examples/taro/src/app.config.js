export default defineAppConfig({
  pages: ['pages/chat/index'],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#fff',
    navigationBarTitleText: 'comind IM',
    navigationBarTextStyle: 'black',
  },
});
